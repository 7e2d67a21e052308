// Saves what the worker produced as a file download (object URL; nothing leaves the machine): bytes, or a
// Blob/File such as the streamed zip the worker wrote to the origin's private storage (not copied here).
export function downloadBytes(bytes: ArrayBuffer | Blob, fileName: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(bytes instanceof Blob ? bytes : new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
