import { describe, it } from 'vitest';
import { prepareDoraForward } from '../../src/kernels/dora';
import { prepareLoraForward } from '../../src/kernels/lora';
import { prepareMatmul } from '../../src/kernels/matmul';
import { doraMergeKernel, loraMergeKernel, prepareDoraMerge, prepareDoraUnmerge, prepareLoraMerge } from '../../src/kernels/merge';
import type { Launch } from '../../src/gpu/context';
import { doraRowNorm } from '../../src/ref/dora';
import type { LoraShape } from '../../src/ref/lora';
import { doraMerge, loraMerge } from '../../src/ref/merge';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const LORA_ALPHA = 16; // PEFT default; s = lora_alpha / R
type Case = { N: number; IN: number; OUT: number; R: number };

// The lora family's brief sizes plus odd ones; IN·OUT = 65·45 leaves a partial 64-thread workgroup.
const CASES: Case[] = [
  { N: 13, IN: 48, OUT: 65, R: 4 },
  { N: 13, IN: 48, OUT: 144, R: 8 },
  { N: 13, IN: 48, OUT: 65, R: 1 },
  { N: 1, IN: 1, OUT: 1, R: 1 },
  { N: 7, IN: 7, OUT: 7, R: 3 },
  { N: 45, IN: 65, OUT: 45, R: 2 },
];

/** Unmerge recovers W up to the rounding of the merge's add (or scale) and the unmerge's inverse op. */
const ROUNDTRIP = TOL.elementwise;

function inputs(s: LoraShape, seed: number) {
  return {
    x: uniformF32(s.N * s.IN, seed), w: uniformF32(s.IN * s.OUT, seed + 1), bias: uniformF32(s.OUT, seed + 2),
    loraA: uniformF32(s.R * s.IN, seed + 3), loraB: uniformF32(s.OUT * s.R, seed + 4, -0.25, 0.25),
    m: uniformF32(s.OUT, seed + 5, 0.5, 2),
  };
}

async function submit(launches: Launch[]) {
  const ctx = await testContext();
  ctx.submit(launches);
  launches.forEach((l) => l.destroy());
}

/** Plain layer on the GPU: y = x·W(ᵀ) + b with matmul.wgsl. */
async function plainForward(s: LoraShape, x: GPUBuffer, w: GPUBuffer, bias: GPUBuffer): Promise<Float32Array> {
  const ctx = await testContext();
  const y = ctx.createBuffer('y/plain', s.N * s.OUT * 4);
  await submit([await prepareMatmul(ctx, { M: s.N, N: s.OUT, K: s.IN, transB: !s.conv1d }, { a: x, b: w, bias, c: y })]);
  return ctx.readF32(y, s.N * s.OUT);
}

async function checkLora(s: LoraShape, seed: number) {
  const ctx = await testContext();
  const t = inputs(s, seed);
  const b = {
    x: ctx.upload('x', t.x), w: ctx.upload('w', t.w), bias: ctx.upload('bias', t.bias),
    loraA: ctx.upload('loraA', t.loraA), loraB: ctx.upload('loraB', t.loraB),
    h: ctx.createBuffer('h', s.N * s.R * 4), y: ctx.createBuffer('y', s.N * s.OUT * 4),
  };
  const what = JSON.stringify(s);
  await submit(await prepareLoraForward(ctx, s, b));
  const adapted = await ctx.readF32(b.y, s.N * s.OUT);
  await submit([await prepareLoraMerge(ctx, { ...s, c: s.scale }, b)]);
  const expected = Float32Array.from(t.w);
  loraMerge(expected, t.loraA, t.loraB, { ...s, c: s.scale });
  // W + a length-R dot product per element.
  expectAllClose(await ctx.readF32(b.w, t.w.length), expected, TOL.matmul, `merged W ${what}`);
  expectAllClose(await plainForward(s, b.x, b.w, b.bias), adapted, TOL.matmul, `merged forward ${what}`);
  await submit([await prepareLoraMerge(ctx, { ...s, c: -s.scale }, b)]);
  expectAllClose(await ctx.readF32(b.w, t.w.length), t.w, ROUNDTRIP, `unmerge(merge(W)) ${what}`);
}

async function checkDora(s: LoraShape, seed: number) {
  const ctx = await testContext();
  const t = inputs(s, seed);
  const f = (n: number, label: string) => ctx.createBuffer(label, n * 4);
  const b = {
    x: ctx.upload('x', t.x), w: ctx.upload('w', t.w), bias: ctx.upload('bias', t.bias),
    loraA: ctx.upload('loraA', t.loraA), loraB: ctx.upload('loraB', t.loraB), m: ctx.upload('m', t.m),
    norm: f(s.OUT, 'norm'), h: f(s.N * s.R, 'h'), z: f(s.N * s.OUT, 'z'), y: f(s.N * s.OUT, 'y'),
  };
  const what = JSON.stringify(s);
  await submit(await prepareDoraForward(ctx, s, b));
  const adapted = await ctx.readF32(b.y, s.N * s.OUT);
  await submit(await prepareDoraMerge(ctx, s, b));
  const norm = new Float32Array(s.OUT), expected = Float32Array.from(t.w);
  doraRowNorm(norm, t.w, t.loraA, t.loraB, s);
  doraMerge(expected, t.loraA, t.loraB, t.m, norm, s);
  // The scale m/norm carries the norm's reduction error (a length-IN sum of squares).
  expectAllClose(await ctx.readF32(b.w, t.w.length), expected, TOL.reduction, `merged W ${what}`);
  expectAllClose(await plainForward(s, b.x, b.w, b.bias), adapted, TOL.matmul, `merged forward ${what}`);
  await submit([await prepareDoraUnmerge(ctx, s, b)]);
  expectAllClose(await ctx.readF32(b.w, t.w.length), t.w, ROUNDTRIP, `unmerge(merge(W)) ${what}`);
}

describe('lora_merge.wgsl / dora_merge.wgsl vs reference and invariants', () => {
  let seed = 500;
  for (const conv1d of [false, true]) {
    for (const c of CASES) {
      const s: LoraShape = { ...c, scale: LORA_ALPHA / c.R, conv1d };
      const name = `${conv1d ? 'Conv1D' : 'Linear'} N=${c.N} in=${c.IN} out=${c.OUT} R=${c.R}`;
      it(`LoRA ${name}`, async () => checkLora(s, (seed += 10)));
      it(`DoRA ${name}`, async () => checkDora(s, (seed += 10)));
    }
  }
});

// Real weights never need more than 65535 workgroups here, so force the folded (x, y) grid with a tiny
// per-dimension limit: the shaders must recover the flat index as wid.x + wid.y · nwg.x.
describe('lora_merge / dora_merge on a folded workgroup grid', () => {
  for (const conv1d of [false, true]) {
    it(conv1d ? 'Conv1D' : 'Linear', async () => {
      const ctx = await testContext();
      const IN = 45, OUT = 13, R = 3, scale = 0.7;
      const w = uniformF32(IN * OUT, 951), a = uniformF32(R * IN, 952), b = uniformF32(OUT * R, 953);
      const m = uniformF32(OUT, 954, 0.5, 2);
      const shape = { IN, OUT, R, conv1d, scale };
      const norm = new Float32Array(OUT);
      doraRowNorm(norm, w, a, b, shape);
      const wantLora = Float32Array.from(w), wantDora = Float32Array.from(w);
      loraMerge(wantLora, a, b, { ...shape, c: scale });
      doraMerge(wantDora, a, b, m, norm, shape);
      const bufs = { lora_a: ctx.upload('a', a), lora_b: ctx.upload('b', b), m: ctx.upload('m', m), norm: ctx.upload('norm', norm) };
      const wl = ctx.upload('w-lora', w), wd = ctx.upload('w-dora', w);
      await ctx.run(loraMergeKernel, { ...shape, c: scale, maxGroupsPerDim: 3 }, { ...bufs, w: wl });
      await ctx.run(doraMergeKernel, { ...shape, unmerge: false, maxGroupsPerDim: 3 }, { ...bufs, w: wd });
      expectAllClose(await ctx.readF32(wl, w.length), wantLora, TOL.matmul, 'lora_merge folded');
      expectAllClose(await ctx.readF32(wd, w.length), wantDora, TOL.reduction, 'dora_merge folded');
    });
  }
});
