import { describe, it } from 'vitest';
import { doraScaleBackwardKernel, doraScaleKernel, prepareDoraBackward, prepareDoraForward } from '../../src/kernels/dora';
import { doraRowNorm, doraScaleBackward, doraScaleForward } from '../../src/ref/dora';
import { type LoraShape, loraBackward, loraForward } from '../../src/ref/lora';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const LORA_ALPHA = 16; // PEFT default; s = lora_alpha / R
type Case = { N: number; IN: number; OUT: number; R: number };

// As the lora family: the brief's N=13, in=48, out=65 / 144, R = 1, 4, 8, plus odd shapes; OUT = 65 and
// 144 leave a partial 64-thread workgroup in the one-thread-per-row kernels.
const CASES: Case[] = [
  ...[65, 144].flatMap((OUT) => [1, 4, 8].map((R) => ({ N: 13, IN: 48, OUT, R }))),
  { N: 1, IN: 1, OUT: 1, R: 1 },
  { N: 7, IN: 7, OUT: 7, R: 3 },
  { N: 45, IN: 65, OUT: 33, R: 2 },
];

function reference(s: LoraShape, t: Record<string, Float32Array>, withBias: boolean) {
  const { N, IN, OUT, R } = s;
  const norm = new Float32Array(OUT), h = new Float32Array(N * R), z = new Float32Array(N * OUT), y = new Float32Array(N * OUT);
  doraRowNorm(norm, t.w, t.loraA, t.loraB, s);
  loraForward(z, h, t.x, t.w, null, t.loraA, t.loraB, s);
  doraScaleForward(y, z, t.m, norm, withBias ? t.bias : null, s);
  const dz = new Float32Array(N * OUT), dm = Float32Array.from(t.dm0), dh = new Float32Array(N * R);
  const dA = Float32Array.from(t.dA0), dB = Float32Array.from(t.dB0), dx = new Float32Array(N * IN);
  doraScaleBackward(dz, dm, t.dy, z, t.m, norm, s);
  loraBackward(dA, dB, dx, dh, dz, t.x, t.w, t.loraA, t.loraB, h, s);
  return { norm, h, z, y, dz, dm, dA, dB, dx };
}

async function check(s: LoraShape, withBias: boolean, seed: number) {
  const ctx = await testContext();
  const { N, IN, OUT, R } = s;
  const t: Record<string, Float32Array> = {
    x: uniformF32(N * IN, seed), w: uniformF32(IN * OUT, seed + 1), bias: uniformF32(OUT, seed + 2),
    loraA: uniformF32(R * IN, seed + 3), loraB: uniformF32(OUT * R, seed + 4, -0.25, 0.25),
    m: uniformF32(OUT, seed + 5, 0.5, 2), dy: uniformF32(N * OUT, seed + 6),
    dm0: uniformF32(OUT, seed + 7), dA0: uniformF32(R * IN, seed + 8), dB0: uniformF32(OUT * R, seed + 9),
  };
  const f = (n: number, label: string) => ctx.createBuffer(label, n * 4);
  const b = {
    x: ctx.upload('x', t.x), w: ctx.upload('w', t.w), bias: withBias ? ctx.upload('bias', t.bias) : undefined,
    loraA: ctx.upload('loraA', t.loraA), loraB: ctx.upload('loraB', t.loraB), m: ctx.upload('m', t.m),
    norm: f(OUT, 'norm'), h: f(N * R, 'h'), z: f(N * OUT, 'z'), y: f(N * OUT, 'y'), dy: ctx.upload('dy', t.dy),
    dz: f(N * OUT, 'dz'), dh: f(N * R, 'dh'), dx: f(N * IN, 'dx'),
    dm: ctx.upload('dm', t.dm0), dA: ctx.upload('dA', t.dA0), dB: ctx.upload('dB', t.dB0),
  };
  const launches = [...await prepareDoraForward(ctx, s, b), ...await prepareDoraBackward(ctx, s, b)];
  ctx.submit(launches);
  launches.forEach((l) => l.destroy());

  const e = reference(s, t, withBias);
  const what = `${JSON.stringify(s)} bias=${withBias}`;
  const read = (buf: GPUBuffer, n: number) => ctx.readF32(buf, n);
  // Norms: a length-IN sum of squares in a different order, then sqrt.
  expectAllClose(await read(b.norm, OUT), e.norm, TOL.reduction, `norm ${what}`);
  expectAllClose(await read(b.h, N * R), e.h, TOL.matmul, `h ${what}`);
  expectAllClose(await read(b.z, N * OUT), e.z, TOL.matmul, `z ${what}`);
  expectAllClose(await read(b.y, N * OUT), e.y, TOL.matmul, `y ${what}`);
  // dz = dy·m/norm inherits the norm's reduction error.
  expectAllClose(await read(b.dz, N * OUT), e.dz, TOL.reduction, `dz ${what}`);
  expectAllClose(await read(b.dm, OUT), e.dm, TOL.matmul, `dm ${what}`);
  expectAllClose(await read(b.dA, R * IN), e.dA, TOL.matmul, `dA ${what}`);
  expectAllClose(await read(b.dB, OUT * R), e.dB, TOL.matmul, `dB ${what}`);
  expectAllClose(await read(b.dx, N * IN), e.dx, TOL.matmul, `dx ${what}`);
}

describe('dora_row_norm / dora_scale / dora_scale_backward.wgsl (+ lora family) vs reference', () => {
  let seed = 300;
  for (const conv1d of [false, true]) {
    for (const c of CASES) {
      it(`${conv1d ? 'Conv1D' : 'Linear'} N=${c.N} in=${c.IN} out=${c.OUT} R=${c.R}`, async () => {
        const s: LoraShape = { ...c, scale: LORA_ALPHA / c.R, conv1d };
        seed += 20;
        await check(s, true, seed);
        await check(s, false, seed + 10);
      });
    }
  }
});

// Real shapes never need more than 65535 workgroups here, so force the folded (x, y) grid with a tiny
// per-dimension limit: the shaders must recover the flat index as wid.x + wid.y · nwg.x.
describe('dora_scale / dora_scale_backward on a folded workgroup grid', () => {
  it('match the reference with at most 3 workgroups per dimension', async () => {
    const ctx = await testContext();
    const N = 13, OUT = 65;
    const z = uniformF32(N * OUT, 901), m = uniformF32(OUT, 902, 0.5, 2), norm = uniformF32(OUT, 903, 0.5, 2);
    const bias = uniformF32(OUT, 904), dy = uniformF32(N * OUT, 905);
    const y = new Float32Array(N * OUT), dz = new Float32Array(N * OUT), dm = new Float32Array(OUT);
    doraScaleForward(y, z, m, norm, bias, { N, OUT });
    doraScaleBackward(dz, dm, dy, z, m, norm, { N, OUT });
    const b = {
      z: ctx.upload('z', z), m: ctx.upload('m', m), norm: ctx.upload('norm', norm), bias: ctx.upload('bias', bias),
      dy: ctx.upload('dy', dy), y: ctx.createBuffer('y', y.byteLength), dz: ctx.createBuffer('dz', dz.byteLength),
      dm: ctx.createBuffer('dm', dm.byteLength),
    };
    await ctx.run(doraScaleKernel, { N, OUT, hasBias: true, maxGroupsPerDim: 3 }, b);
    await ctx.run(doraScaleBackwardKernel, { N, OUT, maxGroupsPerDim: 1 }, b);
    expectAllClose(await ctx.readF32(b.y, y.length), y, TOL.reduction, 'dora_scale folded y');
    expectAllClose(await ctx.readF32(b.dz, dz.length), dz, TOL.reduction, 'dora_scale_backward folded dz');
    expectAllClose(await ctx.readF32(b.dm, dm.length), dm, TOL.reduction, 'dora_scale_backward folded dm');
  });
});
