// Activation and scratch buffers of one batch size B, allocated once (docs/engineering.md#activation-plan: the activation
// arena): the block stack's (../block.ts) plus the stem's and the head's. N = B·T token rows, T = P + 1
// (CLS first).
import type { VitConfig } from '../../io/hfModel/config';
import { type BufferSink, type StackActs, destroyStack, planStack } from '../block';
import type { FamilySpec } from '../families/spec';
import type { VitTrainables } from './trainable';

/** Every size the launches need, derived from the config, the class count and B. */
export interface VitDims {
  B: number;
  P: number; // patches
  T: number; // P + 1 tokens
  N: number; // B·T rows
  C: number;
  NH: number;
  I: number; // MLP width
  L: number;
  NL: number; // classes
  Cin: number;
  H: number;
  W: number;
  p: number; // patch size (square patches only)
  K: number; // Cin·p·p, one im2col row
  eps: number;
}

export function vitDims(cfg: VitConfig, numLabels: number, B: number): VitDims {
  const [ph, pw] = cfg.patch_size;
  if (ph !== pw) throw new Error(`ViT engine: only square patches are supported, got ${ph}×${pw}`);
  const [H, W] = cfg.image_size;
  const P = cfg.num_patches;
  return {
    B, P, T: P + 1, N: B * (P + 1), C: cfg.hidden_size, NH: cfg.num_attention_heads, I: cfg.intermediate_size,
    L: cfg.num_hidden_layers, NL: numLabels, Cin: cfg.num_channels, H, W, p: ph, K: cfg.num_channels * ph * pw,
    eps: cfg.layer_norm_eps,
  };
}

export interface VitActs extends StackActs {
  dims: VitDims;
  images: GPUBuffer; // (B, Cin, H, W)
  labels: GPUBuffer; // (B) i32
  patches: GPUBuffer; // (B·P, K) im2col rows
  patchOut: GPUBuffer; // (B·P, C)
  lnf: GPUBuffer; // (N, C) final layernorm
  meanf: GPUBuffer; // (N)
  rstdf: GPUBuffer; // (N)
  cls: GPUBuffer; // (B, C) CLS rows of lnf
  logits: GPUBuffer; // (B, NL)
  probs: GPUBuffer; // (B, NL)
  losses: GPUBuffer; // (B)
  loss: GPUBuffer; // (2) [mean loss, count]
  dlogits: GPUBuffer; // (B, NL)
  dcls: GPUBuffer; // (B, C)
  dlnf: GPUBuffer; // (N, C), zero except the CLS rows: cleared every step
  head: GPUBuffer[]; // the buffers above, for destroy
}

export function planVitActs(ctx: BufferSink, spec: FamilySpec, d: VitDims, t: Pick<VitTrainables, 'byPath'>, recompute = false): VitActs {
  const { B, N, C, NL } = d;
  const stack = planStack(ctx, spec, B, d.T, (l, m) => t.byPath.get(`${spec.peftPrefix(l)}${m}`), `vit/B${B}`, recompute);
  const head: GPUBuffer[] = [];
  const buf = (name: string, elems: number) => {
    const b = ctx.createBuffer(`vit/B${B}/${name}`, elems * 4);
    head.push(b);
    return b;
  };
  return {
    ...stack,
    dims: d,
    images: buf('images', B * d.Cin * d.H * d.W), labels: buf('labels', B),
    patches: buf('patches', B * d.P * d.K), patchOut: buf('patchOut', B * d.P * C),
    lnf: buf('lnf', N * C), meanf: buf('meanf', N), rstdf: buf('rstdf', N),
    cls: buf('cls', B * C), logits: buf('logits', B * NL), probs: buf('probs', B * NL),
    losses: buf('losses', B), loss: buf('loss', 2),
    dlogits: buf('dlogits', B * NL), dcls: buf('dcls', B * C), dlnf: buf('dlnf', N * C),
    head,
  };
}

export function destroyVitActs(a: VitActs): void {
  destroyStack(a);
  for (const b of a.head) b.destroy();
}
