// merge reference — folding a LoRA or DoRA adapter into its frozen base weight, in place, the spec of
// lora_merge.wgsl and dora_merge.wgsl (METHOD.md; INTEROP.md §5.2, §6). Always in [out, in] terms:
// nn.Linear W (OUT, IN) is W(o,i) = w[o·IN + i]; GPT-2 Conv1D W (IN, OUT) is w[i·OUT + o].
import type { DoraWeightShape } from './dora';
import { type LoraShape, loraDeltaAt } from './lora';
import type { Arr } from './types';

export type LoraMergeShape = Pick<LoraShape, 'IN' | 'OUT' | 'R' | 'conv1d'> & {
  /** Merge coefficient: s to merge, −s to unmerge, α·s for a LoRASC slow step. */
  c: number;
};

const at = (o: number, i: number, s: { IN: number; OUT: number; conv1d: boolean }) =>
  (s.conv1d ? i * s.OUT + o : o * s.IN + i);

/** W ← W + c·B·A (Conv1D: W ← W + c·(B·A)ᵀ). */
export function loraMerge(w: Arr, loraA: Arr, loraB: Arr, s: LoraMergeShape): void {
  for (let o = 0; o < s.OUT; o++) {
    for (let i = 0; i < s.IN; i++) w[at(o, i, s)] += s.c * loraDeltaAt(loraA, loraB, o, i, s);
  }
}

/**
 * Merge: W ← (m/norm)[o] · (W + s·B·A), norm = ‖W + s·B·A‖ per row (doraRowNorm of the W being merged).
 * Unmerge: W ← W / (m/norm)[o] − s·B·A with the norm cached at merge time.
 */
export function doraMerge(w: Arr, loraA: Arr, loraB: Arr, m: Arr, norm: Arr, s: DoraWeightShape, unmerge = false): void {
  for (let o = 0; o < s.OUT; o++) {
    const ratio = m[o] / norm[o];
    for (let i = 0; i < s.IN; i++) {
      const delta = s.scale * loraDeltaAt(loraA, loraB, o, i, s);
      const k = at(o, i, s);
      w[k] = unmerge ? w[k] / ratio - delta : ratio * (w[k] + delta);
    }
  }
}
