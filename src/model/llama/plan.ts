// Activation memory of one Llama-family pass, planned once per (B, T) (docs/engineering.md#activation-plan):
// the block stack's (../block.ts) plus the stem's inputs and the head's; the backward's scratch is the
// stack's, shared by every block.
import type { GpuContext } from '../../gpu/context';
import type { LoraSlot } from '../adaptedLinear';
import { type StackActs, destroyStack, planStack } from '../block';
import type { FamilySpec } from '../families/spec';

export interface LlamaActs extends StackActs {
  ids: GPUBuffer; // (B, T) u32 token ids, uploaded per step
  targets: GPUBuffer; // (B, T) i32 shifted labels, −100 ignored
  lnf: GPUBuffer; // (B, T, C) final RMSNorm output
  lnfRstd: GPUBuffer; // (B, T)
  logits: GPUBuffer; // (B, T, V); overwritten by dlogits in the backward
  probs: GPUBuffer; // (B, T, V)
  losses: GPUBuffer; // (B, T)
  loss: GPUBuffer; // (2) [mean over non-ignored positions, their count]
  head: GPUBuffer[];
}

export function planLlamaActs(
  ctx: GpuContext, spec: FamilySpec, V: number, B: number, T: number, byPath: ReadonlyMap<string, LoraSlot>,
): LlamaActs {
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) throw new Error(`${spec.family} plan: B=${B}, T=${T} must be positive integers`);
  const C = spec.C, BT = B * T;
  const stack = planStack(ctx, spec, B, T, (l, m) => byPath.get(`${spec.peftPrefix(l)}${m}`), 'llama');
  const head: GPUBuffer[] = [];
  const f = (label: string, n: number) => {
    const b = ctx.createBuffer(label, n * 4);
    head.push(b);
    return b;
  };
  return {
    ...stack,
    ids: f('ids', BT), targets: f('targets', BT),
    lnf: f('lnf', BT * C), lnfRstd: f('lnfRstd', BT),
    logits: f('logits', BT * V), probs: f('probs', BT * V), losses: f('losses', BT), loss: f('loss', 2),
    head,
  };
}

export function destroyLlamaActs(a: LlamaActs): void {
  destroyStack(a);
  for (const b of a.head) b.destroy();
}
