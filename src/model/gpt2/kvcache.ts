// The KV cache of GPT-2 generation (B = 1): per layer, the keys and values of every position fed so
// far, so a decode step runs only the new position through the blocks and attends over the cache
// (shaders/attention_decode.wgsl). Rows are appended from the packed c_attn output qkv (rows, 3C)
// with strided_copy: K = columns [C, 2C), V = [2C, 3C); offsets are elements, so no 256-byte
// binding alignment is needed for any position.
import type { GpuContext, Launch } from '../../gpu/context';
import { prepareStridedCopy } from '../../kernels/strided_copy';
import type { Gpt2Config } from '../../io/hfModel/config';

export interface Gpt2KvCache {
  maxT: number; // capacity in positions (≤ n_positions)
  C: number;
  NH: number;
  /** Positions written so far; the next token goes to row `length`. */
  length: number;
  k: GPUBuffer[]; // L × (maxT, C), head h = columns [h·HS, (h+1)·HS)
  v: GPUBuffer[]; // L × (maxT, C)
  att: GPUBuffer; // (NH, maxT) attention_decode scratch, shared by the layers (they run in order)
}

export function createKvCache(ctx: GpuContext, c: Gpt2Config, maxT = c.n_positions): Gpt2KvCache {
  if (!Number.isInteger(maxT) || maxT < 1 || maxT > c.n_positions) {
    throw new Error(`KV cache: maxT=${maxT} must be an integer in [1, n_positions=${c.n_positions}]`);
  }
  const C = c.n_embd;
  const f = (label: string, n: number) => ctx.createBuffer(label, n * 4);
  return {
    maxT, C, NH: c.n_head, length: 0,
    k: Array.from({ length: c.n_layer }, (_, l) => f(`kv.${l}.k`, maxT * C)),
    v: Array.from({ length: c.n_layer }, (_, l) => f(`kv.${l}.v`, maxT * C)),
    att: f('kv.att', c.n_head * maxT),
  };
}

/**
 * Copies the K and V thirds of `rows` consecutive qkv rows (rows, 3C) into cache rows
 * [pos, pos + rows) of one layer: two launches, to be encoded after the c_attn that writes qkv.
 * Does not move `length` (the caller does, once per token, after every layer is encoded).
 */
export async function prepareKvAppend(
  ctx: GpuContext, cache: Gpt2KvCache, layer: number, qkv: GPUBuffer, pos: number, rows: number,
): Promise<Launch[]> {
  if (!Number.isInteger(pos) || pos < 0 || !Number.isInteger(rows) || rows < 1 || pos + rows > cache.maxT) {
    throw new Error(`KV cache: rows [${pos}, ${pos + rows}) do not fit the capacity ${cache.maxT}`);
  }
  const C = cache.C;
  const copy = (third: number, dst: GPUBuffer) => prepareStridedCopy(ctx, {
    batch: 1, rows, cols: C, srcOffset: third * C, srcRowStride: 3 * C, dstOffset: pos * C, dstRowStride: C,
  }, { src: qkv, dst });
  return [await copy(1, cache.k[layer]), await copy(2, cache.v[layer])];
}

export function destroyKvCache(cache: Gpt2KvCache): void {
  for (const b of [...cache.k, ...cache.v, cache.att]) b.destroy();
}
