// Device events as a typed stream: the trainer and the UI subscribe instead of polling.

export type GpuEvent =
  | { type: 'device-lost'; reason: 'destroyed' | 'unknown'; message: string }
  | { type: 'uncaptured-error'; kind: 'validation' | 'out-of-memory' | 'internal'; message: string };

export type GpuEventListener = (event: GpuEvent) => void;

export class GpuEvents {
  private readonly listeners = new Set<GpuEventListener>();

  on(listener: GpuEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: GpuEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** Maps a WebGPU error object to our event kind without relying on class identity across realms. */
export function errorKind(error: GPUError): 'validation' | 'out-of-memory' | 'internal' {
  const n = error.constructor?.name ?? '';
  if (n.includes('OutOfMemory')) return 'out-of-memory';
  if (n.includes('Internal')) return 'internal';
  return 'validation';
}
