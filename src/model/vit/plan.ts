// Activation and scratch buffers of one batch size B, allocated once (STYLE.md §9: the activation
// arena). N = B·T token rows, T = P + 1 (CLS first). Everything the backward reads is cached per layer.
import type { GpuContext } from '../../gpu/context';
import type { VitConfig } from '../../io/hfModel/config';
import { type VitTrainables, vitModuleName } from './trainable';
import { VIT_LINEAR_MODULES, type VitLinearModule } from './weights';

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

export interface VitLayerActs {
  h1: GPUBuffer; // (N, C) layernorm_before output
  mean1: GPUBuffer; // (N)
  rstd1: GPUBuffer; // (N)
  qkvOut: Record<'q' | 'k' | 'v', GPUBuffer>; // (N, C) each, the separate Linears' outputs
  loraH: Partial<Record<VitLinearModule, GPUBuffer>>; // (N, R) = x·Aᵀ per targeted module
  doraZ: Partial<Record<VitLinearModule, GPUBuffer>>; // DoRA: (N, OUT) output before the magnitude scale
  doraNorm: Partial<Record<VitLinearModule, GPUBuffer>>; // DoRA: (OUT) detached row norms
  qkv: GPUBuffer; // (N, 3C) packed Q | K | V for the attention kernels
  att: GPUBuffer; // (B, NH, T, T) softmax probabilities
  y: GPUBuffer; // (N, C) attention output, input of attention.output.dense
  xmid: GPUBuffer; // (N, C) residual stream after attention
  h2: GPUBuffer; // (N, C) layernorm_after output
  mean2: GPUBuffer; // (N)
  rstd2: GPUBuffer; // (N)
  f: GPUBuffer; // (N, I) intermediate.dense output (GELU input)
  g: GPUBuffer; // (N, I) GELU output
}

export interface VitActs {
  dims: VitDims;
  images: GPUBuffer; // (B, Cin, H, W)
  labels: GPUBuffer; // (B) i32
  patches: GPUBuffer; // (B·P, K) im2col rows
  patchOut: GPUBuffer; // (B·P, C)
  xs: GPUBuffer[]; // L + 1 residual streams (N, C): xs[l] enters layer l, xs[L] is the encoder output
  layers: VitLayerActs[];
  lnf: GPUBuffer; // (N, C) final layernorm
  meanf: GPUBuffer; // (N)
  rstdf: GPUBuffer; // (N)
  cls: GPUBuffer; // (B, C) CLS rows of lnf
  logits: GPUBuffer; // (B, NL)
  probs: GPUBuffer; // (B, NL)
  losses: GPUBuffer; // (B)
  loss: GPUBuffer; // (2) [mean loss, count]
  tmp: GPUBuffer; // (N, C) a Linear's output before its residual add
  // backward scratch
  dlogits: GPUBuffer; // (B, NL)
  dcls: GPUBuffer; // (B, C)
  dlnf: GPUBuffer; // (N, C), zero except the CLS rows: cleared every step
  dres: GPUBuffer; // (N, C) gradient of the residual stream
  dC: GPUBuffer; // (N, C) gradient of a layernorm output
  dy: GPUBuffer; // (N, C) gradient of the attention output
  dI1: GPUBuffer; // (N, I)
  dI2: GPUBuffer; // (N, I)
  dpreatt: GPUBuffer; // (B, NH, T, T)
  dqkv: GPUBuffer; // (N, 3C)
  dqkvSplit: Record<'q' | 'k' | 'v', GPUBuffer>; // (N, C) each
  dh: GPUBuffer; // (N, R) LoRA scratch
  dz: GPUBuffer; // (N, max(C, I)) DoRA scratch: gradient of z (1 element without DoRA)
}

export function planVitActs(ctx: GpuContext, d: VitDims, t: VitTrainables): VitActs {
  const { B, N, C, I, NH, T, NL } = d;
  const all: GPUBuffer[] = [];
  const buf = (name: string, elems: number) => {
    const b = ctx.createBuffer(`vit/B${B}/${name}`, elems * 4);
    all.push(b);
    return b;
  };
  const trio = (name: string) => ({ q: buf(`${name}.q`, N * C), k: buf(`${name}.k`, N * C), v: buf(`${name}.v`, N * C) });
  const R = t.slots[0].R;
  const layers = Array.from({ length: d.L }, (_, l): VitLayerActs => {
    const loraH: Partial<Record<VitLinearModule, GPUBuffer>> = {};
    const doraZ: Partial<Record<VitLinearModule, GPUBuffer>> = {}, doraNorm: Partial<Record<VitLinearModule, GPUBuffer>> = {};
    for (const m of VIT_LINEAR_MODULES) {
      const slot = t.byPath.get(vitModuleName(l, m));
      if (!slot) continue;
      loraH[m] = buf(`l${l}.${m}.h`, N * R);
      if (slot.m) {
        doraZ[m] = buf(`l${l}.${m}.dora_z`, N * slot.OUT);
        doraNorm[m] = buf(`l${l}.${m}.dora_norm`, slot.OUT);
      }
    }
    return {
      h1: buf(`l${l}.h1`, N * C), mean1: buf(`l${l}.mean1`, N), rstd1: buf(`l${l}.rstd1`, N),
      qkvOut: trio(`l${l}`), loraH, doraZ, doraNorm, qkv: buf(`l${l}.qkv`, N * 3 * C), att: buf(`l${l}.att`, B * NH * T * T),
      y: buf(`l${l}.y`, N * C), xmid: buf(`l${l}.xmid`, N * C),
      h2: buf(`l${l}.h2`, N * C), mean2: buf(`l${l}.mean2`, N), rstd2: buf(`l${l}.rstd2`, N),
      f: buf(`l${l}.f`, N * I), g: buf(`l${l}.g`, N * I),
    };
  });
  const acts: VitActs = {
    dims: d,
    images: buf('images', B * d.Cin * d.H * d.W), labels: buf('labels', B),
    patches: buf('patches', B * d.P * d.K), patchOut: buf('patchOut', B * d.P * C),
    xs: Array.from({ length: d.L + 1 }, (_, l) => buf(`x${l}`, N * C)),
    layers,
    lnf: buf('lnf', N * C), meanf: buf('meanf', N), rstdf: buf('rstdf', N),
    cls: buf('cls', B * C), logits: buf('logits', B * NL), probs: buf('probs', B * NL),
    losses: buf('losses', B), loss: buf('loss', 2), tmp: buf('tmp', N * C),
    dlogits: buf('dlogits', B * NL), dcls: buf('dcls', B * C), dlnf: buf('dlnf', N * C),
    dres: buf('dres', N * C), dC: buf('dC', N * C), dy: buf('dy', N * C),
    dI1: buf('dI1', N * I), dI2: buf('dI2', N * I), dpreatt: buf('dpreatt', B * NH * T * T),
    dqkv: buf('dqkv', N * 3 * C), dqkvSplit: trio('dqkv'), dh: buf('dh', N * R),
    dz: buf('dz', t.slots.some((s) => s.m) ? N * Math.max(C, I) : 1),
  };
  allBuffers.set(acts, all);
  return acts;
}

const allBuffers = new WeakMap<VitActs, GPUBuffer[]>();

export function destroyVitActs(a: VitActs): void {
  for (const b of allBuffers.get(a) ?? []) b.destroy();
}
