import { describe, expect, it } from 'vitest';
import { preparePatchBackward, preparePatchForward, preparePatchIm2col, uploadOnes } from '../../src/kernels/patch';
import { type PatchShape, patchBackward, patchCount, patchForward, patchIm2col } from '../../src/ref/patch';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// The two cases of the brief, a 1-pixel image, and a non-square image whose C = 65 and Cin·p·p = 18
// are not multiples of the matmul's 4×4 blocks.
const SHAPES: PatchShape[] = [
  { B: 2, Cin: 3, H: 8, W: 8, p: 4, C: 10 },
  { B: 2, Cin: 1, H: 12, W: 12, p: 3, C: 7 },
  { B: 1, Cin: 1, H: 1, W: 1, p: 1, C: 1 },
  { B: 1, Cin: 2, H: 6, W: 9, p: 3, C: 65 },
];

async function check(s: PatchShape, seed: number) {
  const ctx = await testContext();
  const K = s.Cin * s.p * s.p, rows = s.B * patchCount(s);
  const images = uniformF32(s.B * s.Cin * s.H * s.W, seed);
  const weight = uniformF32(s.C * K, seed + 1);
  const bias = uniformF32(s.C, seed + 2);
  const dout = uniformF32(rows * s.C, seed + 3);
  const dweight0 = uniformF32(s.C * K, seed + 4), dbias0 = uniformF32(s.C, seed + 5);
  const b = {
    images: ctx.upload('images', images), weight: ctx.upload('weight', weight), bias: ctx.upload('bias', bias),
    patches: ctx.createBuffer('patches', rows * K * 4), out: ctx.createBuffer('out', rows * s.C * 4),
    dout: ctx.upload('dout', dout), dweight: ctx.upload('dweight', dweight0), dbias: ctx.upload('dbias', dbias0),
    ones: uploadOnes(ctx, rows),
  };
  const launches = [...await preparePatchForward(ctx, s, b), ...await preparePatchBackward(ctx, s, b)];
  ctx.submit(launches);
  launches.forEach((l) => l.destroy());

  const patches = new Float32Array(rows * K);
  patchIm2col(patches, images, s);
  expectAllClose(await ctx.readF32(b.patches, patches.length), patches, TOL.exact, `im2col ${JSON.stringify(s)}`);
  const out = new Float32Array(rows * s.C);
  patchForward(out, images, weight, bias, s);
  expectAllClose(await ctx.readF32(b.out, out.length), out, TOL.matmul, `forward ${JSON.stringify(s)}`);
  const dweight = Float32Array.from(dweight0), dbias = Float32Array.from(dbias0);
  patchBackward(dweight, dbias, dout, images, s);
  expectAllClose(await ctx.readF32(b.dweight, dweight.length), dweight, TOL.matmul, `dweight ${JSON.stringify(s)}`);
  expectAllClose(await ctx.readF32(b.dbias, dbias.length), dbias, TOL.matmul, `dbias ${JSON.stringify(s)}`);
}

describe('patch_im2col.wgsl + matmul vs direct convolution reference', () => {
  let seed = 50;
  for (const s of SHAPES) {
    it(`B=${s.B} Cin=${s.Cin} ${s.H}×${s.W} p=${s.p} C=${s.C}`, async () => {
      await check(s, (seed += 10));
    });
  }

  it('rejects an image that is not a multiple of the patch size', async () => {
    const ctx = await testContext();
    const any = ctx.createBuffer('any', 64);
    await expect(preparePatchIm2col(ctx, { B: 1, Cin: 1, H: 8, W: 7, p: 4, C: 2 }, { images: any, patches: ctx.createBuffer('p', 64) }))
      .rejects.toThrow(/8×7 is not a multiple of the patch size p=4/);
  });
});
