// Generation's prefill (gpt2/generate.ts, llama/generate.ts): the prompt's T0 tokens run through the stem
// and the block stack on a (1, T0) plan that has no head, and only the last row of resid[L] is copied into
// the decoder's (1, 1) step plan, whose head (final norm, then the LM head chunk by chunk) makes the one
// logits row sampling needs. A head over all T0 rows would hold (T0, n_k) logits per vocabulary chunk: the
// chunks are sized for the training plan's B·T rows, so a longer prompt would outgrow the binding limit.
// The row's logits are the same bits either way: the norms work row by row, and each logit is the same
// dot product in the same order whatever M the head matmul has (for a given kernel variant).
import type { GpuContext, Launch } from '../gpu/context';
import { prepareStridedCopy } from '../kernels/strided_copy';
import type { LoraSlot } from './adaptedLinear';
import { type StackActs, destroyStack, planStack } from './block';
import type { FamilySpec } from './families/spec';

/** The prefill's buffers: the prompt's ids and the block stack for (1, T0). */
export interface TrunkActs extends StackActs {
  ids: GPUBuffer; // (T0) u32
}

export function planTrunk(ctx: GpuContext, spec: FamilySpec, T0: number, byPath: ReadonlyMap<string, LoraSlot>, label: string): TrunkActs {
  const stack = planStack(ctx, spec, 1, T0, (l, m) => byPath.get(`${spec.peftPrefix(l)}${m}`), label);
  return { ...stack, ids: ctx.createBuffer(`${label}/ids`, T0 * 4) };
}

export function destroyTrunk(a: TrunkActs): void {
  destroyStack(a);
  a.ids.destroy();
}

/** Copies the last of the trunk's T0 rows of resid[L] (C wide) into row 0 of the step plan's resid[L]. */
export function prepareLastRow(ctx: GpuContext, a: TrunkActs, C: number, dst: GPUBuffer): Promise<Launch> {
  const src = a.resid[a.resid.length - 1];
  return prepareStridedCopy(ctx, { batch: 1, rows: 1, cols: C, srcOffset: (a.T - 1) * C, srcRowStride: C, dstRowStride: C }, { src, dst });
}
