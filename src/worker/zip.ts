// Export folders as one .zip download (fflate, stored without compression: safetensors barely
// compress and storing keeps the export fast), under one top-level folder.
import { zipSync } from 'fflate';

export function zipFiles(files: ReadonlyMap<string, Uint8Array>, folder: string): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [name, bytes] of files) entries[`${folder}/${name}`] = [bytes, { level: 0 }];
  return zipSync(entries);
}
