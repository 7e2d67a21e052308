// The end of a single-adapter run (LoRA, LoRA+, DoRA): merged weights W0 + s·B·A (DoRA: the DoRA
// merge), the adapter's tensors by PEFT key for export, and its rank report (rank ≤ r by construction).
import type { IterationReport } from './cascade';
import { doraMerge, mergeDelta } from '../io/export';
import { type LinearModule, loraKeys } from './modules';
import { cascadeSpectrum, frobeniusOfProduct } from './rank';

export function mergeSingle(
  weights: ReadonlyMap<string, Float32Array>, targets: LinearModule[], W0: ReadonlyMap<string, Float32Array>,
  R: number, scale: number, useDora: boolean,
) {
  const merged = new Map<string, Float32Array>();
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  const layers: IterationReport['layers'] = [];
  for (const m of targets) {
    const k = loraKeys(m.path);
    const A = weights.get(k.A), B = weights.get(k.B), mag = weights.get(k.m);
    const w0 = W0.get(m.path);
    if (!A || !B || !w0) throw new Error(`merge: LoRA weights or base weight of ${m.path} missing`);
    if (useDora && !mag) throw new Error(`merge: DoRA magnitude of ${m.path} missing`);
    const W = useDora ? doraMerge(w0, m.layout, m.IN, m.OUT, B, A, R, scale, mag as Float32Array) : mergeDelta(w0, m.layout, m.IN, m.OUT, B, A, R, scale);
    merged.set(m.path, W);
    tensors.set(k.A, { data: A, shape: [R, m.IN] });
    tensors.set(k.B, { data: B, shape: [m.OUT, R] });
    if (useDora) tensors.set(k.m, { data: mag as Float32Array, shape: [m.OUT] });
    const fast = frobeniusOfProduct(B, A, R, m.OUT, m.IN, scale);
    layers.push({ path: m.path, fastNorm: fast, slowNorm: fast, spectrum: cascadeSpectrum([{ A, B, r: R, coef: scale }], m.OUT, m.IN) });
  }
  return { merged, tensors, report: { iteration: 1, layers } satisfies IterationReport };
}
