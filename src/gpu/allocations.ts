// Every GPU allocation the context makes, by category: bytes held now and the peak since the last reset,
// per category and in total. The memory plan (src/train/memoryPlan.ts) predicts the same categories; a
// test holds the measured peak against it. A buffer is counted from its creation until its first destroy().

/** What a buffer holds, as the memory plan names it. */
export const MEMORY_CATEGORIES = ['weights', 'trainables', 'gradients', 'optimizer', 'activations', 'workspace', 'uniforms', 'readback'] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];

export type ByCategory = Record<MemoryCategory, number>;

const zeros = (): ByCategory => Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as ByCategory;

export class AllocationTracker {
  /** Bytes held now, by category. */
  readonly current: ByCategory = zeros();
  /** The largest `current[c]` since the last resetPeak. */
  readonly peak: ByCategory = zeros();
  /** Bytes held now in all categories, and its peak since the last resetPeak (not the sum of the per-category peaks). */
  total = 0;
  peakTotal = 0;
  /** The category of allocations made without one (see `during`). */
  private scope: MemoryCategory = 'workspace';

  /** Counts `buffer` (its size) under `category` until its first destroy(). */
  track(buffer: GPUBuffer, category: MemoryCategory = this.scope): GPUBuffer {
    const bytes = buffer.size;
    this.add(category, bytes);
    const destroy = buffer.destroy.bind(buffer);
    let live = true;
    buffer.destroy = () => {
      if (live) {
        live = false;
        this.add(category, -bytes);
      }
      destroy();
    };
    return buffer;
  }

  /** Runs `fn` with `category` as the default of the allocations inside it (synchronous code only). */
  during<T>(category: MemoryCategory, fn: () => T): T {
    const outer = this.scope;
    this.scope = category;
    try { return fn(); } finally { this.scope = outer; }
  }

  /** Starts a new peak from what is held now. */
  resetPeak(): void {
    for (const c of MEMORY_CATEGORIES) this.peak[c] = this.current[c];
    this.peakTotal = this.total;
  }

  private add(c: MemoryCategory, bytes: number): void {
    this.current[c] += bytes;
    this.total += bytes;
    if (this.current[c] > this.peak[c]) this.peak[c] = this.current[c];
    if (this.total > this.peakTotal) this.peakTotal = this.total;
  }
}
