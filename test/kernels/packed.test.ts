// The packed-weight kernels (src/kernels/packed.ts) against the CPU references run on the unpacked
// values (src/ref/packed.ts): every packed matmul variant (packed_variants.ts) this device can run, in both
// weight layouts, and which ones it cannot and why; the LoRA and DoRA compositions around
// a packed W, and the packed embedding gather by vocabulary chunks. Shapes are odd on purpose: a weight
// of odd element count ends in a half-filled word, and rows of odd length start mid-word.
import { describe, expect, it } from 'vitest';
import { prepareDoraBackward, prepareDoraForward } from '../../src/kernels/dora';
import { prepareEmbeddingForwardChunks } from '../../src/kernels/embedding';
import { prepareLoraBackward, prepareLoraForward } from '../../src/kernels/lora';
import { frozenBytes, packedWordsOf, prepareWeightMatmul } from '../../src/kernels/packed';
import { type PackedMatmulShape, fitsPackedVec4, matmulPackedQuadKernel, packedShapeClass, packedVariants, shippedPackedVariant } from '../../src/kernels/packed_variants';
import { type DeviceFeatures, deviceFeatures } from '../../src/gpu/features';
import type { KernelDescriptor } from '../../src/gpu/kernel';
import { doraRowNorm, doraScaleBackward, doraScaleForward } from '../../src/ref/dora';
import { embeddingForward } from '../../src/ref/embedding';
import { type LoraShape, loraBackward, loraForward } from '../../src/ref/lora';
import { type MatmulShape, matmul } from '../../src/ref/matmul';
import { packF32, unpackToF32 } from '../../src/ref/packed';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { randomInts, uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

const FORMATS = ['bf16', 'f16'] as const;
type Half = (typeof FORMATS)[number];

/** A random weight rounded to `f`: its packed words and the F32 values they hold (the reference's W). */
function weight(n: number, seed: number, f: Half) {
  const words = packF32(uniformF32(n, seed), f);
  return { words, values: unpackToF32(words, n, f) };
}

const MATMULS: MatmulShape[] = [
  { M: 1, N: 1, K: 1 }, // one element: a half-filled word
  { M: 7, N: 7, K: 7 }, // 49 elements, rows of 7 start mid-word
  { M: 45, N: 65, K: 33 },
  { M: 13, N: 3, K: 48 }, // NT aligned (K % 4 == 0) with 3 rows of W
  { M: 8, N: 101, K: 5 },
  { M: 5, N: 7, K: 12 }, // NT aligned, N odd: the last block of 8 columns is clamped
  { M: 9, N: 20, K: 6 }, // K % 4 == 2: N rows of W start mid-word in NT
  { M: 33, N: 36, K: 44 }, // both layouts aligned; the second half of the last 4×8 block is past N
  { M: 17, N: 72, K: 16 },
];

/** Runs one packed variant (or, with no kernel, the device's chosen one) and checks it against the reference. */
async function checkPacked(f: Half, s: MatmulShape, seed: number, kernel?: KernelDescriptor<PackedMatmulShape>) {
  const ctx = await testContext();
  const w = weight(s.K * s.N, seed, f);
  const a = uniformF32(s.M * s.K, seed + 1), bias = uniformF32(s.N, seed + 2), c0 = uniformF32(s.M * s.N, seed + 3);
  // With a bias and `=`, then without a bias, scaled and accumulated.
  for (const shape of [{ ...s, hasBias: true }, { ...s, alpha: 0.5, beta: 1 }]) {
    const want = Float32Array.from(c0);
    matmul(want, a, w.values, shape.hasBias ? bias : null, shape);
    const c = ctx.upload('c', c0), wb = ctx.upload('w', w.words);
    expect(wb.size).toBeLessThan(2 * s.K * s.N + 4); // 2 bytes per parameter, + a half word
    const buf = { a: ctx.upload('a', a), w: wb, c, bias: shape.hasBias ? ctx.upload('bias', bias) : undefined };
    const launch = kernel
      ? await ctx.prepare(kernel, { ...shape, f16: f === 'f16' }, { ...buf, bias: buf.bias ?? buf.a })
      : await prepareWeightMatmul(ctx, shape, f, buf);
    ctx.submit([launch]);
    launch.destroy();
    expectAllClose(await ctx.readF32(c, want.length), want, TOL.matmul, `${f} ${kernel?.name ?? 'chosen'} ${JSON.stringify(shape)}`);
  }
}

describe('packed matmul variants vs reference on the unpacked weight', () => {
  let seed = 900;
  for (const f of FORMATS) for (const s of MATMULS) for (const transB of [false, true]) {
    const shape = { ...s, transB };
    it(`${f} ${s.M}×${s.N}×${s.K} N${transB ? 'T' : 'N'}: every eligible variant, and the chosen one`, async () => {
      seed += 5;
      const { eligible, skipped } = packedVariants(deviceFeatures(await testContext()), { ...shape, f16: f === 'f16' });
      // The aligned kernel runs exactly where its alignment holds; the element-wise one everywhere.
      expect(eligible.map((v) => v.id)).toContain('packed-any');
      expect(eligible.some((v) => v.id === 'packed')).toBe(fitsPackedVec4(shape));
      if (!fitsPackedVec4(shape)) expect(skipped.find((v) => v.id === 'packed')?.reason).toMatch(/K % 4 == 0/);
      for (const v of eligible) await checkPacked(f, shape, seed, v.kernel);
      await checkPacked(f, shape, seed);
    });
  }

  it('packed-f16 (native f16 reads) is offered only for F16 weights on a device with shader-f16; SwiftShader has none', async () => {
    const features = deviceFeatures(await testContext());
    const s = { M: 8, N: 8, K: 8 };
    const reason = (feat: DeviceFeatures, f16: boolean) => packedVariants(feat, { ...s, f16 }).skipped.find((v) => v.id === 'packed-f16')?.reason;
    // The feature list is the device's own (requested from the adapter by getDevice).
    if (!features.has.includes('shader-f16')) {
      expect(reason(features, true)).toMatch(/needs the 'shader-f16' feature, which this device does not have/);
      expect(reason(features, false)).toMatch(/needs the 'shader-f16' feature/);
    } else {
      expect(reason(features, true)).toBeUndefined();
    }
    // With the feature: F16 weights get it, BF16 ones are refused (their bits are not f16 values).
    const withF16: DeviceFeatures = { has: ['shader-f16'] };
    expect(reason(withF16, true)).toBeUndefined();
    expect(reason(withF16, false)).toMatch(/F16 weights only/);
    expect(packedVariants(withF16, { ...s, K: 6, f16: true }).skipped.find((v) => v.id === 'packed-f16')?.reason).toMatch(/K % 4 == 0/);
  });

  it('on SwiftShader the shipped choice is the aligned kernel where the shape allows it', () => {
    expect(shippedPackedVariant({ M: 256, N: 128, K: 352, f16: false })).toBe('packed');
    expect(shippedPackedVariant({ M: 256, N: 128, K: 128, transB: true, f16: true })).toBe('packed');
    expect(shippedPackedVariant({ M: 256, N: 7, K: 128, f16: false })).toBe('packed-any');
    expect(packedShapeClass({ M: 256, N: 128, K: 128, transB: true, f16: false })).toBe('bf16 NT plain vec4 full');
  });

  it('packed-quad (16×12, A shared by quadBroadcast) vs reference, where the device has subgroups of 4 or more lanes', async () => {
    const features = deviceFeatures(await testContext());
    const can = features.has.includes('subgroups') && (features.subgroupMinSize ?? 0) >= 4;
    const full: PackedMatmulShape = { M: 20, N: 20, K: 68, f16: false }; // the 'full' shape class
    const { eligible, skipped } = packedVariants(features, full);
    expect(eligible.some((v) => v.id === 'packed-quad')).toBe(can);
    // Shipped on a CPU implementation exactly where the F32 side ships quad16x12: full, aligned, quad-capable.
    expect(shippedPackedVariant(full, features)).toBe(can ? 'packed-quad' : 'packed');
    expect(shippedPackedVariant(full)).toBe('packed');
    expect(shippedPackedVariant({ ...full, K: 64 }, features)).toBe('packed');
    expect(shippedPackedVariant({ ...full, N: 21 }, features)).toBe('packed-any');
    expect(shippedPackedVariant({ ...full, N: 21, transB: true }, features)).toBe(can ? 'packed-quad' : 'packed');
    // Never offered for a shape the aligned loads cannot read, nor on a device without quads.
    expect(packedVariants(features, { ...full, K: 66 }).skipped.find((v) => v.id === 'packed-quad')?.reason).toMatch(/K % 4 == 0/);
    expect(packedVariants({ has: [] }, full).skipped.find((v) => v.id === 'packed-quad')?.reason).toMatch(/needs the 'subgroups' feature/);
    expect(packedVariants({ has: ['subgroups'], subgroupMinSize: 2 }, full).skipped.find((v) => v.id === 'packed-quad')?.reason)
      .toMatch(/at least 4 lanes/);
    if (!can) {
      expect(skipped.find((v) => v.id === 'packed-quad')?.reason).toMatch(/subgroup/);
      return;
    }
    // The F32 quad kernel's workgroup per product (quadWorkgroup): all three shapes below.
    expect([{ M: 44, N: 68, K: 36 }, { M: 140, N: 200, K: 72 }, { M: 12, N: 132, K: 8 }].map((x) => matmulPackedQuadKernel.key({ ...x, f16: false })))
      .toEqual(['packed-quad/bf16/wg8x8/NN', 'packed-quad/bf16/wg4x16/NN', 'packed-quad/bf16/wg16x4/NN']);
    // Several workgroups each way (128 rows × 96 columns for 8×8), partial last ones, lanes of a quad past N,
    // rows past M inside a quad's 16; NT with N not a multiple of 4 (a vocabulary chunk of the LM head).
    const shapes: MatmulShape[] = [
      { M: 44, N: 68, K: 36 }, { M: 140, N: 200, K: 72 }, { M: 12, N: 132, K: 8 }, { M: 37, N: 20, K: 4 },
      { M: 45, N: 101, K: 20, transB: true }, { M: 140, N: 203, K: 68, transB: true },
    ];
    let seed = 1700;
    for (const f of FORMATS) for (const s of shapes) for (const transB of s.transB ? [true] : [false, true]) {
      await checkPacked(f, { ...s, transB }, seed++, matmulPackedQuadKernel);
    }
  });

  it('a stored BF16/F16 tensor is packed by copying its bytes; F32 values are rounded', () => {
    const w = weight(7, 5, 'bf16');
    const raw = new Uint8Array(w.words.buffer, 0, 14);
    expect(Array.from(packedWordsOf('BF16', raw, () => { throw new Error('not widened'); }, 'bf16'))).toEqual(Array.from(w.words));
    expect(Array.from(packedWordsOf('F32', undefined, () => w.values, 'bf16'))).toEqual(Array.from(w.words));
    expect(frozenBytes(7, 'bf16')).toBe(16);
    expect(frozenBytes(7, 'f32')).toBe(28);
  });
});

type Case = { N: number; IN: number; OUT: number; R: number };
// The last case is full-size both ways (M, N > 16, K > 64): forward and dx run SwiftShader's shipped packed-quad.
const CASES: Case[] = [{ N: 7, IN: 7, OUT: 7, R: 3 }, { N: 13, IN: 48, OUT: 65, R: 4 }, { N: 20, IN: 68, OUT: 72, R: 4 }];

async function loraCase(s: LoraShape & { wFormat: Half }, dora: boolean, seed: number) {
  const ctx = await testContext();
  const { N, IN, OUT, R } = s;
  const w = weight(IN * OUT, seed, s.wFormat);
  const t = {
    x: uniformF32(N * IN, seed + 1), bias: uniformF32(OUT, seed + 2), loraA: uniformF32(R * IN, seed + 3),
    loraB: uniformF32(OUT * R, seed + 4, -0.25, 0.25), m: uniformF32(OUT, seed + 5, 0.5, 2), dy: uniformF32(N * OUT, seed + 6),
    dm0: uniformF32(OUT, seed + 7), dA0: uniformF32(R * IN, seed + 8), dB0: uniformF32(OUT * R, seed + 9), dx0: uniformF32(N * IN, seed + 10),
  };
  // Reference on the rounded W; dx accumulates onto dx0 (the residual stream's `+=`).
  const h = new Float32Array(N * R), z = new Float32Array(N * OUT), y = new Float32Array(N * OUT), norm = new Float32Array(OUT);
  const dA = Float32Array.from(t.dA0), dB = Float32Array.from(t.dB0), dx = Float32Array.from(t.dx0), dh = new Float32Array(N * R);
  const dz = new Float32Array(N * OUT), dm = Float32Array.from(t.dm0);
  if (dora) {
    doraRowNorm(norm, w.values, t.loraA, t.loraB, s);
    loraForward(z, h, t.x, w.values, null, t.loraA, t.loraB, s);
    doraScaleForward(y, z, t.m, norm, t.bias, s);
    doraScaleBackward(dz, dm, t.dy, z, t.m, norm, s);
  } else {
    loraForward(y, h, t.x, w.values, t.bias, t.loraA, t.loraB, s);
  }
  loraBackward(dA, dB, dx, dh, dora ? dz : t.dy, t.x, w.values, t.loraA, t.loraB, h, s, true);

  const f = (n: number, label: string) => ctx.createBuffer(label, n * 4);
  const b = {
    x: ctx.upload('x', t.x), w: ctx.upload('w', w.words), bias: ctx.upload('bias', t.bias),
    loraA: ctx.upload('loraA', t.loraA), loraB: ctx.upload('loraB', t.loraB), m: ctx.upload('m', t.m),
    norm: f(OUT, 'norm'), h: f(N * R, 'h'), z: f(N * OUT, 'z'), y: f(N * OUT, 'y'), dy: ctx.upload('dy', t.dy),
    dz: f(N * OUT, 'dz'), dh: f(N * R, 'dh'), dx: ctx.upload('dx', t.dx0),
    dm: ctx.upload('dm', t.dm0), dA: ctx.upload('dA', t.dA0), dB: ctx.upload('dB', t.dB0),
  };
  const launches = dora
    ? [...await prepareDoraForward(ctx, s, b), ...await prepareDoraBackward(ctx, s, b, { accumulateDx: true })]
    : [...await prepareLoraForward(ctx, s, b), ...await prepareLoraBackward(ctx, s, b, { accumulateDx: true })];
  ctx.submit(launches);
  launches.forEach((l) => l.destroy());
  const what = `${dora ? 'DoRA' : 'LoRA'} ${JSON.stringify(s)}`;
  if (dora) expectAllClose(await ctx.readF32(b.norm, OUT), norm, TOL.reduction, `norm ${what}`);
  expectAllClose(await ctx.readF32(b.h, N * R), h, TOL.matmul, `h ${what}`);
  expectAllClose(await ctx.readF32(b.y, N * OUT), y, TOL.matmul, `y ${what}`);
  if (dora) expectAllClose(await ctx.readF32(b.dm, OUT), dm, TOL.matmul, `dm ${what}`);
  expectAllClose(await ctx.readF32(b.dA, R * IN), dA, TOL.matmul, `dA ${what}`);
  expectAllClose(await ctx.readF32(b.dB, OUT * R), dB, TOL.matmul, `dB ${what}`);
  expectAllClose(await ctx.readF32(b.dx, N * IN), dx, TOL.matmul, `dx ${what}`);
}

describe('LoRA and DoRA around a packed W vs reference', () => {
  let seed = 1300;
  for (const f of FORMATS) for (const conv1d of [false, true]) for (const c of CASES) for (const dora of [false, true]) {
    it(`${f} ${dora ? 'DoRA' : 'LoRA'} ${conv1d ? 'Conv1D' : 'Linear'} N=${c.N} in=${c.IN} out=${c.OUT} R=${c.R}`, async () => {
      seed += 20;
      await loraCase({ ...c, scale: 16 / c.R, conv1d, wFormat: f }, dora, seed);
    });
  }
});

describe('embedding_forward_packed.wgsl vs reference', () => {
  for (const f of FORMATS) {
    it(`${f}: V=11, C=7 (odd rows) in chunks of 4, 4, 3, each packed from its own first row`, async () => {
      const ctx = await testContext();
      const B = 2, T = 5, C = 7, V = 11;
      const table = weight(V * C, 40, f).values;
      const wpe = uniformF32(T * C, 41);
      const ids = randomInts(B * T, 42, V);
      ids[0] = V - 1; // the last row of the last chunk
      const want = new Float32Array(B * T * C);
      embeddingForward(want, ids, table, wpe, { B, T, C, V, maxT: T });
      const split = { V, chunks: [{ v0: 0, n: 4 }, { v0: 4, n: 4 }, { v0: 8, n: 3 }] };
      const chunks = split.chunks.map(({ v0, n }) => ctx.upload(`wte${v0}`, packF32(table.subarray(v0 * C, (v0 + n) * C), f)));
      const out = ctx.createBuffer('out', B * T * C * 4);
      const launches = await prepareEmbeddingForwardChunks(ctx, { B, T, C, V, maxT: T }, split,
        { ids: ctx.upload('ids', ids), wte: chunks, wpe: ctx.upload('wpe', wpe), out }, f);
      ctx.submit(launches);
      launches.forEach((l) => l.destroy());
      // A gather and one add: exact.
      expectAllClose(await ctx.readF32(out, want.length), want, TOL.exact, `${f} embedding`);
    });
  }
});
