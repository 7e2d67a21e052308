// Runs inside Chromium: the engine's matmul and tfjs-webgpu's matMul on the same adapter, in one page,
// then one LoRA training step of a GPT-2 block stack on both (train.ts).
// Each engine gets its own GPUDevice from the same adapter; they take turns, never overlapping.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import type { GpuContext } from '../src/gpu/context';
import { getDevice } from '../src/gpu/device';
import type { KernelDescriptor } from '../src/gpu/kernel';
import { fitsVec4, matmulKernel, matmulVec4Kernel, matmulVec4x8Kernel, matmulVec8x8Workgroup } from '../src/kernels/matmul';
import { chooseMatmul, observeMatmulChoices } from '../src/kernels/matmul_select';
import { matmulQuadKernel, matmulTiledKernel, matmulVariants } from '../src/kernels/matmul_variants';
import { deviceFeatures } from '../src/gpu/features';
import { runDevice } from './device';
import { runMemplan } from './memplan';
import type { MatmulShape } from '../src/ref/matmul';
import { type BenchReport, type CaseResult, GPT2_CASES, type MatmulCase, EXTRA_TRAIN_CASES, SQUARE_CASES, TRAIN_CASES, type TrainCaseResult, flops } from './cases';
import { runTrainCase } from './train';
import { LLAMA_CASES, type LlamaCaseResult, runLlamaCase } from './llama';
import { runPackedCase } from './packed';
import { type MatmulTimer, engineTimer, tfjsTimer } from './timers';
import { seededUniform } from '../src/ref/seeded';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The GPU process's CPU ms so far (bench/cpu.ts, exposed by bench/run.ts), or null where it cannot be read. */
async function gpuCpuMs(): Promise<number | null> {
  const read = (window as unknown as { benchGpuCpuMs?: () => Promise<number | null> }).benchGpuCpuMs;
  return read ? read() : null;
}

interface RepTimes {
  /** Wall ms per product, each rep. */
  wall: number[];
  /** CPU ms of the GPU process per product, each rep; empty where it cannot be read. */
  cpu: number[];
}

/**
 * Times engines rep by rep, interleaved, the order reversed every other rep (so neither side always runs
 * right after the other's readback); returns every rep's wall and GPU-process CPU ms per product of each.
 */
async function interleave(timers: MatmulTimer[], iters: number, reps: number): Promise<RepTimes[]> {
  const times: RepTimes[] = timers.map(() => ({ wall: [], cpu: [] }));
  for (let r = 0; r < reps; r++) {
    const order = timers.map((_, i) => (r % 2 ? timers.length - 1 - i : i));
    for (const i of order) {
      const c0 = await gpuCpuMs();
      times[i].wall.push(await timers[i].rep(iters));
      const c1 = await gpuCpuMs();
      if (c0 !== null && c1 !== null) times[i].cpu.push((c1 - c0) / iters);
    }
  }
  return times;
}

// Enough back-to-back products that each timed rep is well above submit and readback overhead: at least 2e8 FLOP,
// and a product per 4e5 outputs read back. Each rep ends by reading the whole output (both engines alike), and
// for a short-K product that readback is a large part of one product: 768×3072×128 (xᵀ·dy) writes 9.4 MB, and a
// one-product rep of the quad kernel there spent half its time outside the k loop (docs/bench-swiftshader.md#quad16x12).
const itersFor = (s: MatmulShape) => Math.max(1, Math.min(20, Math.round(Math.max(2e8 / flops(s), (s.M * s.N) / 4e5))));

async function runCase(ctx: GpuContext, cse: MatmulCase, reps: number, log: (s: string) => void): Promise<CaseResult> {
  const s = cse.shape;
  const a = seededUniform(s.M * s.K, 1);
  const b = seededUniform(s.K * s.N, 2);
  const { kernel, variant } = await chooseMatmul(ctx, s);
  const engine = await engineTimer(ctx, kernel, s, a, b);
  const tfjs = await tfjsTimer(s, a, b);
  const [engineReps, tfjsReps] = await interleave([engine, tfjs], itersFor(s), reps);
  const [engineMs, tfjsMs] = [median(engineReps.wall), median(tfjsReps.wall)];
  const cpu = engineReps.cpu.length === reps && tfjsReps.cpu.length === reps
    ? { engineCpuMs: median(engineReps.cpu), tfjsCpuMs: median(tfjsReps.cpu), cpuRatio: median(tfjsReps.cpu) / median(engineReps.cpu) }
    : {};
  const [eo, to] = [await engine.output(), await tfjs.output()];
  engine.dispose();
  tfjs.dispose();
  let maxAbsDiff = 0;
  for (let i = 0; i < eo.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(eo[i] - to[i]));
  const gf = (ms: number) => flops(s) / (ms * 1e6);
  const r: CaseResult = {
    name: cse.name, M: s.M, N: s.N, K: s.K, layout: `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`, variant,
    engineMs, tfjsMs, engineGflops: gf(engineMs), tfjsGflops: gf(tfjsMs), ratio: tfjsMs / engineMs, maxAbsDiff,
    engineRepsMs: engineReps.wall, tfjsRepsMs: tfjsReps.wall, ...cpu,
  };
  log(`${cse.name}: engine ${r.engineGflops.toFixed(2)} GFLOP/s, tfjs ${r.tfjsGflops.toFixed(2)} GFLOP/s`);
  return r;
}

/** Kernel lab (docs/engineering.md#kernel-lab): every matmul version on the same cases, interleaved, GFLOP/s only. */
async function runLab(opts: { reps?: number; cases?: string[]; versions?: string[] }): Promise<Record<string, Record<string, number>>> {
  const all: Record<string, KernelDescriptor<MatmulShape>> = {
    'v3 scalar 4×4': matmulKernel, 'v4 vec4 4×4': matmulVec4Kernel, 'v5 vec4 4×8': matmulVec4x8Kernel,
    'v6 tiled 64×64 (workgroup memory)': matmulTiledKernel,
    'v7 vec4 8×8 wg8×8': matmulVec8x8Workgroup([8, 8]), 'v7 vec4 8×8 wg16×16': matmulVec8x8Workgroup([16, 16]),
    'v7 vec4 8×8 wg16×4': matmulVec8x8Workgroup([16, 4]),
    'v8 quad 16×12 (subgroups)': matmulQuadKernel,
  };
  // --lab-version / --case pick versions and cases by substring of their names (default: all).
  const pick = <T>(xs: T[], name: (x: T) => string, wanted?: string[]) =>
    wanted?.length ? xs.filter((x) => wanted.some((w) => name(x).includes(w))) : xs;
  const versions = Object.fromEntries(pick(Object.entries(all), ([v]) => v, opts.versions));
  const ctx = await getDevice({ label: 'bench-lab' });
  const quadOk = matmulVariants(deviceFeatures(ctx), { M: 20, N: 20, K: 68 }).eligible.some((v) => v.id === 'quad16x12');
  const out: Record<string, Record<string, number>> = {};
  for (const c of pick([...SQUARE_CASES, ...GPT2_CASES], (x) => x.name, opts.cases)) {
    const a = seededUniform(c.shape.M * c.shape.K, 1);
    const b = seededUniform(c.shape.K * c.shape.N, 2);
    const names = Object.keys(versions).filter((v) => (versions[v] === matmulKernel || fitsVec4(c.shape))
      && (versions[v] !== matmulQuadKernel || quadOk));
    const timers = await Promise.all(names.map((v) => engineTimer(ctx, versions[v], c.shape, a, b)));
    const reps = await interleave(timers, itersFor(c.shape), opts.reps ?? 3);
    timers.forEach((t) => t.dispose());
    // Median GFLOP/s, and GFLOP per CPU-second of the GPU process (the kernel's work, little moved by load).
    out[c.name] = Object.fromEntries(names.flatMap((v, i) => [[v, flops(c.shape) / (median(reps[i].wall) * 1e6)],
      ...(reps[i].cpu.length ? [[`${v} per cpu-s`, flops(c.shape) / (median(reps[i].cpu) * 1e6)]] : [])]));
    console.log(`[bench] ${c.name} ${JSON.stringify(out[c.name])}`);
  }
  ctx.destroy();
  return out;
}

export interface BenchOptions {
  quick?: boolean;
  reps?: number;
  /** Only one part: 'matmul' or 'train'. */
  only?: string;
  /** Per-kernel timing of the engine's training step (slow: one submit and wait per dispatch). */
  profile?: boolean;
  /** Training-case names to run (default all, or the first with quick). */
  trainCases?: string[];
}

async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = (line: string) => {
    document.getElementById('log')!.textContent += `\n${line}`;
    console.log(`[bench] ${line}`);
  };
  await tf.setBackend('webgpu');
  await tf.ready();
  const ctx = await getDevice({ label: 'bench-engine' });
  const adapter = ctx.describe();
  if (opts.only === 'packed') { // the packed-weights rows alone (bench/packed.ts)
    const packed = [await runPackedCase(ctx, opts.reps ?? 3, log)];
    ctx.destroy();
    return { adapter, userAgent: navigator.userAgent, kernelKeys: {}, results: [], train: [], packed };
  }
  if (opts.only === 'llama') { // the Llama row alone (bench/llama.ts)
    const llama: LlamaCaseResult[] = [];
    for (const c of LLAMA_CASES) llama.push(await runLlamaCase(ctx, c, opts.reps ?? 3, log, !!opts.profile));
    ctx.destroy();
    return { adapter, userAgent: navigator.userAgent, kernelKeys: {}, results: [], train: [], llama };
  }
  const named = [...TRAIN_CASES, ...EXTRA_TRAIN_CASES];
  const unknown = (opts.trainCases ?? []).filter((n) => !named.some((c) => c.name === n));
  if (unknown.length) throw new Error(`unknown training case ${unknown.join(', ')}; known: ${named.map((c) => c.name).join(', ')}`);
  const pick = opts.trainCases?.length ? named.filter((c) => opts.trainCases!.includes(c.name)) : TRAIN_CASES;
  const trainCases = opts.only === 'matmul' ? [] : opts.quick ? pick.slice(0, 1) : pick;
  const cases = opts.only === 'train' ? [] : opts.quick ? [SQUARE_CASES[0], GPT2_CASES[1]] : [...SQUARE_CASES, ...GPT2_CASES];
  const results: CaseResult[] = [];
  const kernelKeys: Record<string, string> = {};
  for (const c of cases) {
    kernelKeys[c.name] = (await chooseMatmul(ctx, c.shape)).kernel.key(c.shape);
    results.push(await runCase(ctx, c, opts.reps ?? 3, log));
  }
  const train: TrainCaseResult[] = [];
  for (const c of trainCases) {
    // Every matmul variant the step's products ran (their shape classes' choices), for the table.
    const used = new Set<string>();
    const stop = observeMatmulChoices((variant) => used.add(variant));
    try {
      train.push({ ...await runTrainCase(ctx, c, opts.reps ?? 3, log, !!opts.profile), variants: [...used].sort() });
    } finally {
      stop();
    }
  }
  const llama: LlamaCaseResult[] = [];
  if (opts.only === undefined) for (const c of LLAMA_CASES) llama.push(await runLlamaCase(ctx, c, opts.reps ?? 3, log, !!opts.profile));
  const packed = opts.only === undefined ? [await runPackedCase(ctx, opts.reps ?? 3, log)] : [];
  ctx.destroy();
  return { adapter, userAgent: navigator.userAgent, kernelKeys, results, train, llama, packed };
}

(window as unknown as { runBench: typeof runBench }).runBench = runBench;
(window as unknown as { runLab: typeof runLab }).runLab = runLab;
(window as unknown as { runDevice: typeof runDevice }).runDevice = runDevice;
(window as unknown as { runMemplan: typeof runMemplan }).runMemplan = runMemplan;
(window as unknown as { benchReady: boolean }).benchReady = true;
