// Which matmul variant runs a product on this device: decided per shape class on first use and then kept
// (src/gpu/selector.ts). On a hardware adapter the eligible variants are checked against the CPU
// reference and timed for a few milliseconds each; on a CPU implementation of WebGPU (SwiftShader) the
// kernel lab's shipped table decides (docs/kernels.md#swiftshader), unless tuning is forced.
import { type Candidate, type Trial, tune } from '../gpu/autotune';
import type { GpuContext } from '../gpu/context';
import { assertClose, launchTrial } from '../gpu/trial';
import { adapterKey, deviceFeatures, isSoftwareAdapter } from '../gpu/features';
import type { KernelDescriptor } from '../gpu/kernel';
import { type SelectedRecord, VariantSelector } from '../gpu/selector';
import { type TuneStore, defaultTuneStore } from '../gpu/tuneStore';
import { type MatmulShape, matmul } from '../ref/matmul';
import { seededUniform } from '../ref/seeded';
import { type MatmulVariantInfo, matmulShapeClass, matmulVariants, shippedMatmulVariant } from './matmul_variants';

export const matmulSelection = {
  /** Time the variants even on a CPU implementation (the bench's --device preset; tuning tests). */
  tuneSoftware: false,
  /** Offer the f16-compute variant. Never set for training: its error is ~10× the f32 tolerances. */
  allowF16: false,
};

let store: TuneStore | undefined;
const selectors = new Map<string, VariantSelector>();

/** Where choices are kept (default: the origin's storage in a page, memory in Node); forgets this page's choices. */
export function setKernelChoiceStore(s: TuneStore): void {
  store = s;
  selectors.clear();
}

/** One selector per adapter for the whole page, so every context on one adapter gets the same kernels. */
export function selectorFor(ctx: GpuContext): VariantSelector {
  const key = `${adapterKey(ctx.adapterInfo)}${matmulSelection.tuneSoftware ? '/tuned' : ''}`;
  let sel = selectors.get(key);
  if (!sel) {
    store ??= defaultTuneStore();
    sel = new VariantSelector(key, store);
    selectors.set(key, sel);
  }
  return sel;
}

/** The timed product: the shape itself, capped at 512 per side (alignment kept), batch 1, packed. */
export function trialShape(s: MatmulShape): MatmulShape {
  return { M: Math.min(s.M, 512), N: Math.min(s.N, 512), K: Math.min(s.K, 512), transA: s.transA, transB: s.transB,
    hasBias: s.hasBias, alpha: s.alpha, beta: s.beta };
}

/** The check product: small, ragged where the layout allows it, same layout and epilogue. */
export function checkShape(s: MatmulShape): MatmulShape {
  return { ...trialShape(s), M: Math.min(s.M, s.transA ? 44 : 45), N: Math.min(s.N, s.transB ? 65 : 68), K: Math.min(s.K, 36) };
}

/** A variant made ready to validate and time; its buffers are its own. */
export async function matmulTrial(ctx: GpuContext, v: MatmulVariantInfo, s: MatmulShape): Promise<Trial> {
  const made: GPUBuffer[] = [];
  const bind = async (shape: MatmulShape, seed: number) => {
    const aLen = shape.M * shape.K, bLen = shape.K * shape.N;
    const bufs = {
      a: ctx.upload('tune/a', seededUniform(aLen, seed)), b: ctx.upload('tune/b', seededUniform(bLen, seed + 1)),
      bias: ctx.upload('tune/bias', seededUniform(shape.N, seed + 2)), c: ctx.upload('tune/c', seededUniform(shape.M * shape.N, seed + 3)),
    };
    made.push(...Object.values(bufs));
    return { bufs, launch: await ctx.prepare(v.kernel, shape, bufs) };
  };
  try {
    const ts = trialShape(s);
    const timed = await bind(ts, 11);
    return launchTrial(ctx, timed.launch, made, 2 * ts.M * ts.N * ts.K, async () => {
      const cs = checkShape(s);
      const { bufs, launch } = await bind(cs, 21);
      const want = seededUniform(cs.M * cs.N, 24); // C's old contents (beta ≠ 0 reads them)
      matmul(want, seededUniform(cs.M * cs.K, 21), seededUniform(cs.K * cs.N, 22), cs.hasBias ? seededUniform(cs.N, 23) : null, cs);
      ctx.submit([launch], launch.label);
      launch.destroy();
      assertClose(await ctx.readF32(bufs.c, want.length), want, v.tolerance);
    });
  } catch (e) {
    made.forEach((b) => b.destroy());
    throw e;
  }
}

const observers = new Set<(variant: string, s: MatmulShape) => void>();

/** Calls `fn` with the variant of every product bound from now on (the bench's variant column); returns the stop. */
export function observeMatmulChoices(fn: (variant: string, s: MatmulShape) => void): () => void {
  observers.add(fn);
  return () => observers.delete(fn);
}

export interface MatmulChoice {
  kernel: KernelDescriptor<MatmulShape>;
  variant: string;
}

/** The kernel for `s` on this device (the shape class's choice, made now if it is the first of its class). */
export async function chooseMatmul(ctx: GpuContext, s: MatmulShape): Promise<MatmulChoice> {
  const features = deviceFeatures(ctx);
  const { eligible } = matmulVariants(features, s, { allowF16: matmulSelection.allowF16 });
  const software = isSoftwareAdapter(ctx.adapterInfo) && !matmulSelection.tuneSoftware;
  const choice = await selectorFor(ctx).choose({
    kernel: 'matmul',
    shapeClass: matmulShapeClass(s),
    candidates: (): Candidate[] => eligible.map((v) => ({ id: v.id, prepare: () => matmulTrial(ctx, v, s) })),
    builtIn: software ? () => shippedMatmulVariant(s, features) : undefined,
  });
  const v = eligible.find((e) => e.id === choice.variant)!;
  for (const fn of observers) fn(v.id, s);
  return { kernel: v.kernel, variant: v.id };
}

/** Every matmul choice this page has made on this context's adapter, for the Device panel. */
export async function matmulChoices(ctx: GpuContext): Promise<SelectedRecord[]> {
  return (await selectorFor(ctx).records()).filter((r) => r.kernel === 'matmul');
}

/** The products of a LoRA training step, one per shape class the Device panel reports. */
export const REPORTED_PRODUCTS: { name: string; shape: MatmulShape }[] = [
  { name: 'x·W (Conv1D forward)', shape: { M: 128, N: 768, K: 768 } },
  { name: 'x·Wᵀ + b (nn.Linear forward)', shape: { M: 128, N: 768, K: 768, transB: true, hasBias: true } },
  { name: 'xᵀ·dy, accumulated (weight gradient)', shape: { M: 768, N: 768, K: 128, transA: true, beta: 1 } },
  { name: 'x·Aᵀ (LoRA down, rank 8)', shape: { M: 128, N: 8, K: 768, transB: true } },
];

export interface MatmulChoiceReport {
  name: string;
  shapeClass: string;
  variant: string;
  source: string;
  /** Measured on the class's timed product (capped at 512 per side). */
  gflops: number;
}

/**
 * The variant each reported product's class runs on this device and its speed: the tuner's own figure
 * when it just timed them, else one short measurement of the chosen variant.
 */
export async function reportMatmulChoices(ctx: GpuContext, products = REPORTED_PRODUCTS): Promise<MatmulChoiceReport[]> {
  const out: MatmulChoiceReport[] = [];
  for (const { name, shape } of products) {
    const { variant } = await chooseMatmul(ctx, shape);
    const shapeClass = matmulShapeClass(shape);
    const record = (await matmulChoices(ctx)).find((r) => r.shapeClass === shapeClass)!;
    let gflops = record.gflops;
    if (gflops === undefined) {
      const v = matmulVariants(deviceFeatures(ctx), shape, { allowF16: matmulSelection.allowF16 }).eligible.find((e) => e.id === variant)!;
      // The same timing as the tuner's, on the chosen variant only.
      gflops = (await tune([{ id: v.id, prepare: () => matmulTrial(ctx, v, shape) }])).gflops!;
    }
    out.push({ name, shapeClass, variant, source: record.source, gflops });
  }
  return out;
}
