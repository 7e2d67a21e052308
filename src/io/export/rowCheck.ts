// The merge check on sampled rows (docs/formats.md#parity): for every merged module, MERGE_CHECK_ROWS output
// rows drawn with a seeded generator (MERGE_CHECK_SEED, mixed with the tensor's name so modules draw
// different rows) are merged again from the base and the adapter in Float64, independently of ./merge.ts's
// loop, and compared with the merged F32 values about to be written. A few rows per tensor catch a wrong merge
// (a transposed delta, a wrong scale, a swapped module, a missing DoRA norm) without walking the whole
// vocabulary or every weight: the cost is rows × IN × r per module.
import { loraKey, loraModules, type WeightLayout } from '../peft/modules';
import type { LoadedModel } from '../hfModel';
import { ExportError } from './errors';

export const MERGE_CHECK_ROWS = 4;
export const MERGE_CHECK_SEED = 13;
/**
 * Allowed error in F32 ulps of the larger of |exact| and |W|: the one rounding of a LoRA merge is ½ ulp, DoRA's
 * and a cascade's few more. Measured in ulps, not relative to W, because a two-step run's delta can be a
 * millionth of W: a merge that dropped it must still fail.
 */
export const MERGE_CHECK_ULPS = 4;

/**
 * The allowance for a weight produced by `merges` sequential F32 merges: a cascade (LoRASC, COLA) adds each
 * iteration's delta into the slow weight in F32, and each of those roundings is up to ½ ulp of the running value,
 * which the one-shot Float64 merge of the stacked adapter does not repeat (a 4-iteration demo run measured 6.5
 * ulps). The allowance grows with the merges, so a one-shot merge keeps MERGE_CHECK_ULPS.
 */
export function mergeCheckUlps(merges: number): number {
  return MERGE_CHECK_ULPS * Math.max(1, Math.floor(merges));
}

export interface MergeCheckModule {
  /** Canonical weight name (the key of the merged map). */
  weight: string;
  layout: WeightLayout;
  IN: number;
  OUT: number;
  /** lora_A (r, IN), lora_B (OUT, r), scale s; DoRA: lora_magnitude_vector (OUT). */
  A: Float32Array;
  B: Float32Array;
  r: number;
  scale: number;
  magnitude?: Float32Array;
}

export interface MergeCheck {
  tensors: number;
  /** Rows compared in all (each of IN elements). */
  rows: number;
  /** Largest |merged − exact| in F32 ulps of max(|exact|, |W|) over the sampled elements. */
  maxUlps: number;
  /** The allowance it was held to (MERGE_CHECK_ULPS, or mergeCheckUlps(merges) for a cascade). */
  allowed: number;
  /** Where it was. */
  worst: { tensor: string; row: number; col: number } | null;
  /** Modules the adapter has that the merge left out. */
  missing: string[];
  passes: boolean;
}

/** FNV-1a of the name, mixed into the seed, then mulberry32: a documented, portable stream. */
function rowStream(seed: number, name: string): () => number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct rows of OUT (all of them when OUT ≤ count), ascending. */
export function sampleRows(OUT: number, name: string, count = MERGE_CHECK_ROWS, seed = MERGE_CHECK_SEED): number[] {
  if (OUT <= count) return Array.from({ length: OUT }, (_, i) => i);
  const next = rowStream(seed, name);
  const rows = new Set<number>();
  while (rows.size < count) rows.add(Math.floor(next() * OUT));
  return [...rows].sort((a, b) => a - b);
}

/** One output row o of the exact merge, in the [out, in] view, in Float64. */
function exactRow(m: MergeCheckModule, W: Float32Array, o: number): Float64Array {
  const v = new Float64Array(m.IN);
  for (let i = 0; i < m.IN; i++) {
    let d = 0;
    for (let k = 0; k < m.r; k++) d += m.B[o * m.r + k] * m.A[k * m.IN + i];
    v[i] = W[m.layout === 'conv1d' ? i * m.OUT + o : o * m.IN + i] + m.scale * d;
  }
  if (m.magnitude) {
    let sq = 0;
    for (let i = 0; i < m.IN; i++) sq += v[i] * v[i];
    const f = m.magnitude[o] / Math.sqrt(sq);
    for (let i = 0; i < m.IN; i++) v[i] *= f;
  }
  return v;
}

/**
 * `base(name)` the loaded weight (F32), `merged(name)` the values about to be written (undefined: the module
 * was not merged, which the check reports as missing).
 */
export async function checkMergedRows(
  modules: readonly MergeCheckModule[],
  base: (weight: string) => Float32Array | Promise<Float32Array>,
  merged: (weight: string) => Float32Array | undefined,
  options: { rows?: number; seed?: number; ulps?: number } = {},
): Promise<MergeCheck> {
  let maxUlps = 0, rows = 0, tensors = 0;
  let worst: MergeCheck['worst'] = null;
  const missing: string[] = [];
  for (const m of modules) {
    const got = merged(m.weight);
    if (!got) { missing.push(m.weight); continue; }
    const W = await base(m.weight);
    tensors++;
    for (const o of sampleRows(m.OUT, m.weight, options.rows ?? MERGE_CHECK_ROWS, options.seed ?? MERGE_CHECK_SEED)) {
      const exact = exactRow(m, W, o);
      rows++;
      for (let i = 0; i < m.IN; i++) {
        const idx = m.layout === 'conv1d' ? i * m.OUT + o : o * m.IN + i;
        const u = Math.abs(got[idx] - exact[i]) / ulpF32(Math.max(Math.abs(exact[i]), Math.abs(W[idx])));
        // NaN compares false everywhere: count it as the worst possible element.
        if (!(u <= maxUlps)) { maxUlps = Number.isNaN(u) ? Infinity : u; worst = { tensor: m.weight, row: o, col: i }; }
      }
    }
  }
  const allowed = options.ulps ?? MERGE_CHECK_ULPS;
  return { tensors, rows, maxUlps, allowed, worst, missing, passes: missing.length === 0 && maxUlps <= allowed };
}

/** The spacing of F32 values at |x| (2⁻¹⁴⁹ below the normal range). */
export function ulpF32(x: number): number {
  const a = Math.abs(x);
  if (!(a >= 2 ** -126)) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** The check's modules from a trained adapter's PEFT tensors (lora_A, lora_B, DoRA magnitude) on the loaded model. */
export function adapterCheckModules(model: LoadedModel, adapter: { tensors: ReadonlyMap<string, { data: Float32Array }>; r: number; scale: number }): MergeCheckModule[] {
  const out: MergeCheckModule[] = [];
  for (const m of loraModules(model)) {
    const A = adapter.tensors.get(loraKey(m.path, 'lora_A'))?.data;
    const B = adapter.tensors.get(loraKey(m.path, 'lora_B'))?.data;
    if (!A || !B) continue;
    const magnitude = adapter.tensors.get(loraKey(m.path, 'magnitude'))?.data;
    out.push({ weight: m.weight, layout: m.layout, IN: m.IN, OUT: m.OUT, A, B, r: adapter.r, scale: adapter.scale, ...(magnitude ? { magnitude } : {}) });
  }
  return out;
}

/** A failed check refuses the export (nothing is written), naming the tensor and the element. */
export function assertMergeCheck(c: MergeCheck, file = 'model.safetensors'): void {
  if (c.passes) return;
  if (c.missing.length) throw new ExportError('EXPORT_INVALID', file, `the merge left out ${c.missing.length} adapted module(s)`, { tensor: c.missing[0] });
  const w = c.worst as NonNullable<MergeCheck['worst']>;
  throw new ExportError('EXPORT_INVALID', file, `merge check: row ${w.row}, column ${w.col} is ${c.maxUlps === Infinity ? 'not finite' : `${c.maxUlps.toPrecision(3)} F32 ulps`} from the exact merge (allowed ${c.allowed})`, { tensor: w.tensor });
}
