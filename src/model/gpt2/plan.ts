// Activation memory of one GPT-2 training step, planned once per (B, T) (docs/engineering.md#activation-plan): everything
// the forward writes and the backward reads, plus the backward's scratch. Per-layer tensors are
// separate buffers labelled `h.{i}.<field>`; gradient scratch is shared by all layers (the backward
// walks the layers one at a time), as in llm.c.
import type { Gpt2Config } from '../../io/hfModel/config';
import { type VocabSplit, planVocabColumns, wholeBuffer } from '../../kernels/vocab_split';
import type { LoraSlot } from '../adaptedLinear';
import { type BufferSink, type StackActs, destroyStack, planStack } from '../block';
import type { FamilySpec } from '../families/spec';

/** The block stack's activations (../block.ts) plus the stem's inputs and the head's. */
export interface Gpt2Acts extends StackActs {
  ids: GPUBuffer; // (B, T) u32 token ids, uploaded per step
  targets: GPUBuffer; // (B, T) i32 shifted labels, −100 ignored, uploaded per step
  lnf: GPUBuffer; // (B, T, C)
  lnfMean: GPUBuffer; // (B, T)
  lnfRstd: GPUBuffer; // (B, T)
  vocab: VocabSplit; // the weights' split: logits and probs are stored in the same vocabulary chunks
  logitsChunks: GPUBuffer[]; // (B·T, n_k) per chunk; overwritten by dlogits in the backward
  probsChunks: GPUBuffer[]; // (B·T, n_k) per chunk, softmax cached for the backward
  xentStats: GPUBuffer; // (B·T, 3) softmax statistics across chunks (used only when split)
  /** The logits (B, T, V) whole: for a path without a chunked form (none in the engine or generation today); refuses when split. */
  readonly logits: GPUBuffer;
  losses: GPUBuffer; // (B, T) per-position loss, 0 where ignored
  loss: GPUBuffer; // (2) [mean over non-ignored positions, their count]
  head: GPUBuffer[]; // the buffers above, for destroy
}

export function planGpt2Acts(
  ctx: BufferSink, spec: FamilySpec, c: Gpt2Config, B: number, T: number, byPath: ReadonlyMap<string, LoraSlot>, vocab: VocabSplit,
  recompute = false,
): Gpt2Acts {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`GPT-2 plan: B=${B}, T=${T} must be positive integers`);
  if (T > c.n_positions) throw new Error(`GPT-2 plan: T=${T} exceeds n_positions=${c.n_positions}`);
  const C = c.n_embd, V = c.vocab_size, BT = B * T;
  const stack = planStack(ctx, spec, B, T, (l, m) => byPath.get(`${spec.peftPrefix(l)}${m}`), 'gpt2', recompute);
  if (vocab.V !== V) throw new Error(`GPT-2 plan: a vocabulary split of ${vocab.V} rows for V=${V}`);
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
    lnf: f('lnf', BT * C), lnfMean: f('lnfMean', BT), lnfRstd: f('lnfRstd', BT),
    vocab, logitsChunks, probsChunks, get logits() { return wholeBuffer(logitsChunks, 'the logits', vocab); },
    xentStats: f('xentStats', vocab.chunks.length > 1 ? BT * 3 : 1),
    losses: f('losses', BT), loss: f('loss', 2),
    head,
  };
}

export function destroyGpt2Acts(a: Gpt2Acts): void {
  destroyStack(a);
  for (const b of a.head) b.destroy();
}
