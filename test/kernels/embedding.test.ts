import { describe, expect, it } from 'vitest';
import { runEmbeddingBackward, runEmbeddingForward, validateIds } from '../../src/kernels/embedding';
import { type EmbeddingShape, embeddingBackward, embeddingForward } from '../../src/ref/embedding';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { randomInts, uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// The GPT-2-like case of the brief (V=101, C=48, B=2, T=13), T = 1, and odd sizes that are not
// multiples of the 64-thread workgroup (C = 65 spans two partial workgroups in the backward).
const SHAPES: EmbeddingShape[] = [
  { B: 2, T: 13, C: 48, V: 101, maxT: 16 },
  { B: 2, T: 1, C: 48, V: 101, maxT: 16 },
  { B: 1, T: 1, C: 1, V: 1, maxT: 1 },
  { B: 3, T: 7, C: 7, V: 7, maxT: 7 },
  { B: 1, T: 45, C: 65, V: 33, maxT: 50 },
];

function inputs(s: EmbeddingShape, seed: number) {
  const ids = randomInts(s.B * s.T, seed, s.V);
  if (ids.length > 2) ids[1] = ids[ids.length - 1]; // a repeated token accumulates two rows
  return {
    ids,
    wte: uniformF32(s.V * s.C, seed + 1),
    wpe: uniformF32(s.maxT * s.C, seed + 2),
    dout: uniformF32(s.B * s.T * s.C, seed + 3),
    dwte0: uniformF32(s.V * s.C, seed + 4), // non-zero: the kernel must accumulate, not overwrite
    dwpe0: uniformF32(s.maxT * s.C, seed + 5),
  };
}

async function backwardOnGpu(s: EmbeddingShape, x: ReturnType<typeof inputs>) {
  const ctx = await testContext();
  const dwte = ctx.upload('dwte', x.dwte0), dwpe = ctx.upload('dwpe', x.dwpe0);
  await runEmbeddingBackward(ctx, s, { ids: ctx.upload('ids', x.ids), dout: ctx.upload('dout', x.dout), dwte, dwpe });
  return { dwte: await ctx.readF32(dwte, x.dwte0.length), dwpe: await ctx.readF32(dwpe, x.dwpe0.length) };
}

describe('embedding_forward.wgsl / embedding_backward.wgsl vs reference', () => {
  let seed = 30;
  for (const s of SHAPES) {
    it(`B=${s.B} T=${s.T} C=${s.C} V=${s.V}`, async () => {
      const ctx = await testContext();
      const x = inputs(s, (seed += 10));
      const expected = new Float32Array(s.B * s.T * s.C);
      embeddingForward(expected, x.ids, x.wte, x.wpe, s);
      const out = ctx.createBuffer('out', expected.byteLength);
      await runEmbeddingForward(ctx, s, { ids: ctx.upload('ids', x.ids), wte: ctx.upload('wte', x.wte), wpe: ctx.upload('wpe', x.wpe), out });
      // One f32 add per element, correctly rounded on both sides.
      expectAllClose(await ctx.readF32(out, expected.length), expected, TOL.exact, `forward ${JSON.stringify(s)}`);

      const dwte = Float32Array.from(x.dwte0), dwpe = Float32Array.from(x.dwpe0);
      embeddingBackward(dwte, dwpe, x.dout, x.ids, s);
      const got = await backwardOnGpu(s, x);
      // The shader sums positions t-outer/b-inner and pre-sums dwpe over b: a different order than the reference.
      expectAllClose(got.dwte, dwte, TOL.reduction, `dwte ${JSON.stringify(s)}`);
      expectAllClose(got.dwpe, dwpe, TOL.reduction, `dwpe ${JSON.stringify(s)}`);
    });
  }

  it('backward is bitwise deterministic (one owner per column, no atomics)', async () => {
    const s = SHAPES[0];
    const x = inputs(s, 7);
    const a = await backwardOnGpu(s, x);
    const b = await backwardOnGpu(s, x);
    expectAllClose(b.dwte, a.dwte, TOL.exact, 'dwte run 2 vs run 1');
    expectAllClose(b.dwpe, a.dwpe, TOL.exact, 'dwpe run 2 vs run 1');
  });

  it('an out-of-range id is clamped to V − 1 on the GPU and rejected by validateIds on the host', async () => {
    const ctx = await testContext();
    const s: EmbeddingShape = { B: 1, T: 3, C: 5, V: 4, maxT: 3 };
    const ids = Uint32Array.from([2, 4000000000, 0]);
    expect(() => validateIds(ids, s.V)).toThrow(/token id 4000000000 at position 1/);
    expect(() => validateIds(Uint32Array.from([0, 3]), s.V)).not.toThrow();
    const wte = uniformF32(s.V * s.C, 1), wpe = uniformF32(s.maxT * s.C, 2);
    const expected = new Float32Array(s.T * s.C);
    embeddingForward(expected, Uint32Array.from([2, 3, 0]), wte, wpe, s);
    const out = ctx.createBuffer('out', expected.byteLength);
    await runEmbeddingForward(ctx, s, { ids: ctx.upload('ids', ids), wte: ctx.upload('wte', wte), wpe: ctx.upload('wpe', wpe), out });
    expectAllClose(await ctx.readF32(out, expected.length), expected, TOL.exact, 'clamped forward');
    // The backward clamps the same way: the stray id's gradient lands in row V − 1, nowhere else.
    const dout = uniformF32(s.T * s.C, 3);
    const dwte = new Float32Array(s.V * s.C), dwpe = new Float32Array(s.maxT * s.C);
    embeddingBackward(dwte, dwpe, dout, Uint32Array.from([2, 3, 0]), s);
    const gte = ctx.createBuffer('dwte', dwte.byteLength), gpe = ctx.createBuffer('dwpe', dwpe.byteLength);
    await runEmbeddingBackward(ctx, s, { ids: ctx.upload('ids', ids), dout: ctx.upload('dout', dout), dwte: gte, dwpe: gpe });
    expectAllClose(await ctx.readF32(gte, dwte.length), dwte, TOL.exact, 'clamped backward dwte');
  });

  it('rejects T beyond the rows of wpe', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('any', 64);
    await expect(runEmbeddingForward(ctx, { B: 1, T: 5, C: 2, V: 3, maxT: 4 }, { ids: b, wte: b, wpe: b, out: ctx.createBuffer('o', 64) }))
      .rejects.toThrow(/T=5 exceeds the 4 rows of wpe/);
  });
});
