// `npm run bench -- --device`: one command that measures a machine with a real GPU (docs/kernels.md#device-preset).
// Runs in the bench page: the device's measured f32 multiply-add peak; every matmul variant the device can
// run on large products (GFLOP/s and fraction of that peak) and the variant the selector picks there; then
// the engine's LoRA training steps in tokens/s of a GPT-2 124M-layout model (C 768, 12 layers, 12 heads, V 50257)
// and of a Qwen3-0.6B-layout model (C 1024, GQA 16/8 heads of 128, per-head q/k RMSNorm, SwiGLU I 3072, tied
// 151,936-token vocabulary, rope_theta 1e6). A CPU implementation (SwiftShader) runs the same with smaller
// products, fewer layers and tokens so it finishes.
import type { GpuContext } from '../src/gpu/context';
import { getDevice } from '../src/gpu/device';
import { deviceFeatures, isSoftwareAdapter } from '../src/gpu/features';
import { MemoryTuneStore } from '../src/gpu/tuneStore';
import { chooseMatmul, matmulSelection, observeMatmulChoices, setKernelChoiceStore } from '../src/kernels/matmul_select';
import { matmulShapeClass, matmulVariants } from '../src/kernels/matmul_variants';
import type { MatmulShape } from '../src/ref/matmul';
import { seededUniform } from '../src/ref/seeded';
import { Gpt2LoraModel } from '../src/model/gpt2/model';
import { LlamaLoraModel } from '../src/model/llama/model';
import { LLAMA_TARGETS, type LlamaCase, syntheticLlama } from './llama';
import peakWgsl from './peak.wgsl?raw';
import { type TrainCase, flops } from './cases';
import { randomBatch } from './steps';
import { engineTimer } from './timers';
import { TARGET_MODULES, syntheticGpt2 } from './train';

export interface DeviceOptions { quick?: boolean; reps?: number }

export interface DeviceVariantRow { variant: string; gflops: number; fractionOfPeak: number; precision: 'f32' | 'f16' }

export interface DeviceReport {
  adapter: string;
  features: string[];
  subgroupSizes?: string;
  peakGflops: number;
  matmul: { name: string; M: number; N: number; K: number; layout: string; shapeClass: string; chosen: string; variants: DeviceVariantRow[] }[];
  skipped: { variant: string; reason: string }[];
  train: { name: string; tokens: number; msPerStep: number; tokensPerS: number; variants: string[] }[];
  notMeasured: string[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The f32 fma rate: 16 vec4 fma per iteration per thread, timed over enough threads to fill the device. */
async function measurePeak(ctx: GpuContext, reps: number, software: boolean): Promise<number> {
  const groups = software ? 64 : 4096, iters = software ? 256 : 4096;
  const out = ctx.createBuffer('peak/out', groups * 256 * 4);
  const kernel = { name: 'peak', wgsl: peakWgsl, bindings: ['out:rw'] as const, overrides: () => ({ ITERS: iters }),
    dispatch: (): [number, number, number] => [groups, 1, 1], key: () => `peak/${iters}` };
  const launch = await ctx.prepare(kernel, null, { out });
  ctx.submit([launch]);
  await ctx.finish();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    ctx.submit([launch, launch, launch, launch]);
    await ctx.finish();
    ms.push((performance.now() - t0) / 4);
  }
  launch.destroy();
  out.destroy();
  return (groups * 256 * iters * 16 * 4 * 2) / (median(ms) * 1e6);
}

/** GPT-2 124M's products at B·T = 1024 tokens, and square sizes; a CPU implementation gets a quarter of each side. */
function deviceCases(software: boolean, quick: boolean): { name: string; shape: MatmulShape }[] {
  const t = software ? 128 : 1024, C = 768, sq = software ? 512 : quick ? 2048 : 4096;
  return [
    { name: `square ${sq}`, shape: { M: sq, N: sq, K: sq } },
    { name: 'attn.c_attn  x·W', shape: { M: t, N: 3 * C, K: C } },
    { name: 'mlp.c_proj   x·W', shape: { M: t, N: C, K: 4 * C } },
    { name: 'mlp.c_fc     dy·Wᵀ', shape: { M: t, N: C, K: 4 * C, transB: true } },
    { name: 'mlp.c_fc     xᵀ·dy', shape: { M: C, N: 4 * C, K: t, transA: true, beta: 1 } },
  ];
}

/** One engine: a step (forward, loss, backward to the adapters) then AdamW. */
interface Stepper { step(ids: Uint32Array, labels: Int32Array): Promise<unknown>; adamwStep(lr: number): Promise<void>; destroy(): void }

/** Median ms of `reps` synchronised steps after one warm-up step (every pipeline compiles there). */
async function timeSteps(ctx: GpuContext, model: Stepper, ids: Uint32Array, labels: Int32Array, reps: number): Promise<number> {
  const step = async () => {
    const t0 = performance.now();
    await model.step(ids, labels);
    await model.adamwStep(1e-4);
    await ctx.finish();
    return performance.now() - t0;
  };
  try {
    await step();
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) ms.push(await step());
    return median(ms);
  } finally {
    model.destroy();
  }
}

type TrainRow = Omit<DeviceReport['train'][number], 'variants'>;

async function gpt2Step(ctx: GpuContext, c: TrainCase, reps: number): Promise<TrainRow> {
  const loaded = await syntheticGpt2(c);
  const model = await Gpt2LoraModel.create(ctx, loaded, { targetModules: TARGET_MODULES, r: c.R, scale: 16 / c.R, B: c.B, T: c.T, seed: 0 });
  const n = c.B * c.T;
  const u = seededUniform(2 * n, 5);
  const ids = new Uint32Array(n), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = Math.floor(((u[i] + 1) / 2) * (c.V - 1));
    labels[i] = Math.floor(((u[n + i] + 1) / 2) * (c.V - 1));
  }
  const msPerStep = await timeSteps(ctx, model, ids, labels, reps);
  return { name: c.name, tokens: n, msPerStep, tokensPerS: n / (msPerStep / 1000) };
}

/** LoRA r 8 on q_proj and v_proj (PEFT's default for the Llama and Qwen families), as the Llama row. */
async function llamaStep(ctx: GpuContext, c: LlamaCase, reps: number): Promise<TrainRow> {
  const loaded = await syntheticLlama(c);
  const model = await LlamaLoraModel.create(ctx, loaded, { targetModules: LLAMA_TARGETS, r: c.R, scale: 16 / c.R, B: c.B, T: c.T, seed: 0 });
  const { ids, labels } = randomBatch(c, 778); // bench/llama.ts's batch
  const msPerStep = await timeSteps(ctx, model, ids, labels, reps);
  const n = c.B * c.T;
  return { name: c.name, tokens: n, msPerStep, tokensPerS: n / (msPerStep / 1000) };
}

/** Qwen3-0.6B's config.json shapes; on a CPU implementation 2 of its 28 layers and 32 tokens, on a GPU 8 layers (the synthetic checkpoint is built in page memory) and B4 T256. */
function qwenCase(small: boolean): LlamaCase {
  const shape = { C: 1024, NH: 16, NKV: 8, HS: 128, I: 3072, V: 151936, R: 8, modelType: 'qwen3' as const, tied: true, theta: 1e6 };
  return small
    ? { name: 'Qwen3-0.6B layout, 2 of 28 layers, B1 T32', ...shape, L: 2, B: 1, T: 32 }
    : { name: 'Qwen3-0.6B layout, 8 of 28 layers, B4 T256', ...shape, L: 8, B: 4, T: 256 };
}

export async function runDevice(opts: DeviceOptions): Promise<DeviceReport> {
  const log = (line: string) => console.log(`[bench] ${line}`);
  const reps = opts.reps ?? 3;
  const ctx = await getDevice({ label: 'bench-device' });
  const software = isSoftwareAdapter(ctx.adapterInfo);
  // Time the variants here whatever the adapter (SwiftShader would otherwise use its shipped table), with a
  // fresh store: the preset reports what this device would choose now.
  matmulSelection.tuneSoftware = true;
  setKernelChoiceStore(new MemoryTuneStore());
  try {
    const features = deviceFeatures(ctx);
    const peakGflops = await measurePeak(ctx, reps, software);
    log(`peak f32 fma rate ${peakGflops.toFixed(1)} GFLOP/s`);
    const matmul: DeviceReport['matmul'] = [];
    let skipped: DeviceReport['skipped'] = [];
    for (const c of deviceCases(software, !!opts.quick)) {
      const s = c.shape;
      const { eligible, skipped: sk } = matmulVariants(features, s, { allowF16: true });
      skipped = sk.map((x) => ({ variant: x.id, reason: x.reason }));
      const a = seededUniform((s.batch ?? 1) * s.M * s.K, 1), b = seededUniform(s.K * s.N, 2);
      const variants: DeviceVariantRow[] = [];
      for (const v of eligible) {
        const timer = await engineTimer(ctx, v.kernel, s, a, b);
        const times: number[] = [];
        for (let r = 0; r < reps; r++) times.push(await timer.rep(software ? 1 : 10));
        timer.dispose();
        const gflops = flops(s) / (median(times) * 1e6);
        variants.push({ variant: v.id, gflops, fractionOfPeak: gflops / peakGflops, precision: v.id === 'f16' ? 'f16' : 'f32' });
      }
      const chosen = (await chooseMatmul(ctx, s)).variant;
      matmul.push({ name: c.name, M: s.M, N: s.N, K: s.K, layout: `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`,
        shapeClass: matmulShapeClass(s), chosen, variants });
      log(`${c.name}: ${variants.map((v) => `${v.variant} ${v.gflops.toFixed(1)}`).join(', ')} GFLOP/s; selector: ${chosen}`);
    }
    const gpt2: TrainCase = software || opts.quick
      ? { name: 'GPT-2 124M layout, 2 of 12 layers, B1 T128', C: 768, L: 2, NH: 12, B: 1, T: 128, V: 50257, R: 8 }
      : { name: 'GPT-2 124M layout, B4 T256', C: 768, L: 12, NH: 12, B: 4, T: 256, V: 50257, R: 8 };
    const train: DeviceReport['train'] = [];
    const stepReps = software ? 1 : reps;
    for (const run of [() => gpt2Step(ctx, gpt2, stepReps), () => llamaStep(ctx, qwenCase(software || !!opts.quick), stepReps)]) {
      const used = new Set<string>();
      const stop = observeMatmulChoices((v) => used.add(v));
      const row = await run().finally(stop);
      train.push({ ...row, variants: [...used].sort() });
      log(`${row.name}: ${row.tokensPerS.toFixed(0)} tok/s`);
    }
    return {
      adapter: ctx.describe(), features: features.has,
      subgroupSizes: features.subgroupMinSize ? `${features.subgroupMinSize}..${features.subgroupMaxSize}` : undefined,
      peakGflops, matmul, skipped, train, notMeasured: [],
    };
  } finally {
    matmulSelection.tuneSoftware = false;
    setKernelChoiceStore(new MemoryTuneStore());
    ctx.destroy();
  }
}
