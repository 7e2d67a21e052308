// A binary min-heap ordered by a strict `less`; used for BPE merge order (encode) and pair counts (trainer).

export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const h = this.items;
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = item;
  }

  /** Removes and returns the least item; undefined when empty. */
  pop(): T | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as T;
    if (h.length > 0) this.siftDown(last);
    return top;
  }

  private siftDown(item: T): void {
    const h = this.items;
    const n = h.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(h[child + 1], h[child])) child++;
      if (!this.less(h[child], item)) break;
      h[i] = h[child];
      i = child;
    }
    h[i] = item;
  }
}
