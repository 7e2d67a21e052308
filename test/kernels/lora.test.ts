import { describe, it } from 'vitest';
import { prepareLoraBackward, prepareLoraForward } from '../../src/kernels/lora';
import { type LoraShape, loraBackward, loraForward } from '../../src/ref/lora';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const LORA_ALPHA = 16; // PEFT default; s = lora_alpha / R
type Case = { N: number; IN: number; OUT: number; R: number };

// The brief's cases (N=13, in=48, out=65 and the c_attn-like out=3·48, R = 1, 4, 8) and odd shapes:
// all ones, 7s, N = 45 > 16 with IN = 65 off the 4×4 blocks (the scalar matmul), and a vec4-aligned full-size
// product (the base x·Wᵀ and dy·W on the device's choice for that class: the quad kernel on SwiftShader).
const CASES: Case[] = [
  ...[65, 144].flatMap((OUT) => [1, 4, 8].map((R) => ({ N: 13, IN: 48, OUT, R }))),
  { N: 1, IN: 1, OUT: 1, R: 1 },
  { N: 7, IN: 7, OUT: 7, R: 3 },
  { N: 45, IN: 65, OUT: 33, R: 2 },
  { N: 45, IN: 68, OUT: 132, R: 8 },
];

async function check(s: LoraShape, withBias: boolean, accumulateDx: boolean, seed: number) {
  const ctx = await testContext();
  const { N, IN, OUT, R } = s;
  const x = uniformF32(N * IN, seed), w = uniformF32(IN * OUT, seed + 1), bias = uniformF32(OUT, seed + 2);
  const loraA = uniformF32(R * IN, seed + 3);
  const loraB = uniformF32(OUT * R, seed + 4, -0.25, 0.25); // trained-B scale; s·h·B still dominates errors
  const dy = uniformF32(N * OUT, seed + 5);
  const dA = uniformF32(R * IN, seed + 6), dB = uniformF32(OUT * R, seed + 7), dx = uniformF32(N * IN, seed + 8);
  const b = {
    x: ctx.upload('x', x), w: ctx.upload('w', w), bias: withBias ? ctx.upload('bias', bias) : undefined,
    loraA: ctx.upload('loraA', loraA), loraB: ctx.upload('loraB', loraB),
    h: ctx.createBuffer('h', N * R * 4), y: ctx.createBuffer('y', N * OUT * 4), dy: ctx.upload('dy', dy),
    dh: ctx.createBuffer('dh', N * R * 4), dA: ctx.upload('dA', dA), dB: ctx.upload('dB', dB), dx: ctx.upload('dx', dx),
  };
  const launches = [...await prepareLoraForward(ctx, s, b), ...await prepareLoraBackward(ctx, s, b, { accumulateDx })];
  ctx.submit(launches);
  launches.forEach((l) => l.destroy());

  const y = new Float32Array(N * OUT), h = new Float32Array(N * R), dh = new Float32Array(N * R);
  loraForward(y, h, x, w, withBias ? bias : null, loraA, loraB, s);
  loraBackward(dA, dB, dx, dh, dy, x, w, loraA, loraB, h, s, accumulateDx);
  const what = `${JSON.stringify(s)} bias=${withBias} acc=${accumulateDx}`;
  expectAllClose(await ctx.readF32(b.h, h.length), h, TOL.matmul, `h ${what}`);
  expectAllClose(await ctx.readF32(b.y, y.length), y, TOL.matmul, `y ${what}`);
  expectAllClose(await ctx.readF32(b.dh, dh.length), dh, TOL.matmul, `dh ${what}`);
  expectAllClose(await ctx.readF32(b.dB, dB.length), dB, TOL.matmul, `dB ${what}`);
  // dA and dx chain through dh, but at these sizes they stay within the single-product tolerance.
  expectAllClose(await ctx.readF32(b.dA, dA.length), dA, TOL.matmul, `dA ${what}`);
  expectAllClose(await ctx.readF32(b.dx, dx.length), dx, TOL.matmul, `dx ${what}`);
}

describe('LoRA linear (base product, rank-R products, all matmuls) vs reference', () => {
  let seed = 100;
  for (const conv1d of [false, true]) {
    for (const c of CASES) {
      it(`${conv1d ? 'Conv1D' : 'Linear'} N=${c.N} in=${c.IN} out=${c.OUT} R=${c.R}`, async () => {
        const s: LoraShape = { ...c, scale: LORA_ALPHA / c.R, conv1d };
        seed += 20;
        await check(s, true, false, seed);
        await check(s, false, true, seed + 10);
      });
    }
  }
});
