// Activation memory of one Llama-family pass, planned once per (B, T) (docs/engineering.md#activation-plan):
// the block stack's (../block.ts) plus the stem's inputs and the head's; the backward's scratch is the
// stack's, shared by every block.
import { type VocabSplit, planVocabColumns, wholeBuffer } from '../../kernels/vocab_split';
import type { LoraSlot } from '../adaptedLinear';
import { type BufferSink, type StackActs, destroyStack, planStack } from '../block';
import type { FamilySpec } from '../families/spec';

export interface LlamaActs extends StackActs {
  ids: GPUBuffer; // (B, T) u32 token ids, uploaded per step
  targets: GPUBuffer; // (B, T) i32 shifted labels, −100 ignored
  lnf: GPUBuffer; // (B, T, C) final RMSNorm output
  lnfRstd: GPUBuffer; // (B, T)
  vocab: VocabSplit; // the weights' split: logits and probs are stored in the same vocabulary chunks
  logitsChunks: GPUBuffer[]; // (B·T, n_k) per chunk; overwritten by dlogits in the backward
  probsChunks: GPUBuffer[]; // (B·T, n_k) per chunk
  xentStats: GPUBuffer; // (B·T, 3) softmax statistics across chunks (used only when split)
  /** The logits (B, T, V) whole: for a path without a chunked form (none in the engine or generation today); refuses when split. */
  readonly logits: GPUBuffer;
  losses: GPUBuffer; // (B, T)
  loss: GPUBuffer; // (2) [mean over non-ignored positions, their count]
  head: GPUBuffer[];
}

export function planLlamaActs(
  ctx: BufferSink, spec: FamilySpec, V: number, B: number, T: number, byPath: ReadonlyMap<string, LoraSlot>, vocab: VocabSplit,
  recompute = false,
): LlamaActs {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`${spec.family} plan: B=${B}, T=${T} must be positive integers`);
  const C = spec.C, BT = B * T;
  const stack = planStack(ctx, spec, B, T, (l, m) => byPath.get(`${spec.peftPrefix(l)}${m}`), 'llama', recompute);
  if (vocab.V !== V) throw new Error(`${spec.family} plan: a vocabulary split of ${vocab.V} rows for V=${V}`);
  const logitsChunks = planVocabColumns(ctx, 'logits', BT, vocab), probsChunks = planVocabColumns(ctx, 'probs', BT, vocab);
  const head: GPUBuffer[] = [...logitsChunks, ...probsChunks];
  const f = (label: string, n: number) => {
    const b = ctx.createBuffer(label, n * 4);
    head.push(b);
    return b;
  };
  return {
    ...stack,
    ids: f('ids', BT), targets: f('targets', BT),
    lnf: f('lnf', BT * C), lnfRstd: f('lnfRstd', BT),
    vocab, logitsChunks, probsChunks, get logits() { return wholeBuffer(logitsChunks, 'the logits', vocab); },
    xentStats: f('xentStats', vocab.chunks.length > 1 ? BT * 3 : 1),
    losses: f('losses', BT), loss: f('loss', 2),
    head,
  };
}

export function destroyLlamaActs(a: LlamaActs): void {
  destroyStack(a);
  for (const b of a.head) b.destroy();
}
