// Vocabulary chunks at the kernel level (src/kernels/vocab_split.ts): how a vocabulary is cut, the
// chunked cross-entropy (running max and sum across chunks) against the CPU reference of the whole
// row, its backward, and the chunked embedding gather against the whole-table kernel.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import { GpuLimitError } from '../../src/gpu/errors';
import { runEmbeddingForward, prepareEmbeddingForwardChunks } from '../../src/kernels/embedding';
import { prepareSoftmaxXentBackwardChunks, prepareSoftmaxXentForwardChunks, prepareSoftmaxXentMean } from '../../src/kernels/softmax_xent';
import { type VocabSplit, readVocabColumns, splitVocab, uploadVocabRows } from '../../src/kernels/vocab_split';
import { IGNORE_INDEX, meanLossScale, softmaxXentBackward, softmaxXentForward, softmaxXentMean } from '../../src/ref/softmax_xent';
import { expectAllClose, expectNonFinite } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { randomInts, uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

/** A context stand-in with the given binding limit: splitVocab reads only the limits. */
const limited = (bytes: number) => ({
  limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: bytes }, maxTensorBytes: bytes,
}) as unknown as GpuContext;

/** Columns [v0, v0 + n) of a (rows, V) matrix, one array per chunk. */
function columns(x: Float32Array, rows: number, split: VocabSplit): Float32Array[] {
  return split.chunks.map(({ v0, n }) => {
    const out = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) out.set(x.subarray(r * split.V + v0, r * split.V + v0 + n), r * n);
    return out;
  });
}

describe('splitVocab', () => {
  it('one chunk when the table and the logits fit; else the fewest chunks, multiples of 4 rows, covering V exactly', () => {
    expect(splitVocab(limited(1 << 20), 1000, 48, 26, 'wte').chunks).toEqual([{ v0: 0, n: 1000 }]);
    const s = splitVocab(limited(64 * 1024), 1000, 48, 26, 'wte'); // 341 rows fit
    expect(s.chunks).toEqual([{ v0: 0, n: 336 }, { v0: 336, n: 336 }, { v0: 672, n: 328 }]);
    // The logits can be what limits: B·T = 4096 columns of 4 bytes leave 4 vocabulary rows per 64 KiB.
    expect(splitVocab(limited(64 * 1024), 10, 8, 4096, 'wte').chunks.map((c) => c.n)).toEqual([4, 4, 2]);
  });
  it('refuses when one row of the table, or one column of the logits, cannot fit', () => {
    expect(() => splitVocab(limited(100), 1000, 48, 2, 'embed_tokens.weight')).toThrow(GpuLimitError);
    expect(() => splitVocab(limited(100), 1000, 48, 2, 'embed_tokens.weight')).toThrow(/one row of embed_tokens\.weight \(C=48 F32\)/);
    expect(() => splitVocab(limited(100), 1000, 8, 64, 'wte')).toThrow(/one vocabulary column of the logits \(B·T=64 F32\)/);
  });
});

describe('chunked softmax-xent vs the whole-row reference', () => {
  async function check(BT: number, V: number, n: number, targets: Int32Array, dominantAt: (r: number) => number) {
    const ctx = await testContext();
    const split = splitVocab(limited(n * Math.max(BT, 1) * 4), V, 1, BT, 'logits');
    expect(split.chunks.length).toBeGreaterThan(2);
    const logits = uniformF32(BT * V, BT + V, -6, 6);
    // A +60 logit in a later chunk than the row's first: the running sum must be rescaled by exp(m − m'),
    // else exp(60 − m_first) overflows or the earlier chunks' terms are counted at the wrong scale.
    for (let r = 0; r < BT; r++) logits[r * V + dominantAt(r)] = 60;
    const s = { BT, V };
    const losses = new Float32Array(BT), probs = new Float32Array(BT * V), loss = new Float32Array(2), dlogits = new Float32Array(BT * V);
    softmaxXentForward(losses, probs, logits, targets, s);
    softmaxXentMean(loss, losses, targets, s);
    const scale = meanLossScale(targets, IGNORE_INDEX, 1);
    softmaxXentBackward(dlogits, probs, targets, s, scale);

    const logitBufs = columns(logits, BT, split).map((c, k) => ctx.upload(`logits${k}`, c));
    const probBufs = split.chunks.map(({ n: nk }, k) => ctx.createBuffer(`probs${k}`, BT * nk * 4));
    const bufs = { targets: ctx.upload('targets', targets), stats: ctx.createBuffer('stats', BT * 12), losses: ctx.createBuffer('losses', BT * 4), loss: ctx.createBuffer('loss', 8) };
    const launches = [
      ...await prepareSoftmaxXentForwardChunks(ctx, s, split, { logits: logitBufs, probs: probBufs, ...bufs }),
      await prepareSoftmaxXentMean(ctx, s, bufs),
      ...await prepareSoftmaxXentBackwardChunks(ctx, { ...s, scale }, split, { probs: probBufs, targets: bufs.targets, dlogits: logitBufs }),
    ];
    ctx.submit(launches, 'chunked xent');
    const got = {
      losses: await ctx.readF32(bufs.losses, BT), loss: await ctx.readF32(bufs.loss, 2),
      probs: await readVocabColumns(ctx, probBufs, BT, split), dlogits: await readVocabColumns(ctx, logitBufs, BT, split),
    };
    for (const l of launches) l.destroy();
    for (const b of [...logitBufs, ...probBufs, ...Object.values(bufs)]) b.destroy();
    return { got, want: { losses, loss, probs, dlogits } };
  }

  it('uneven chunks, the dominant logit in the last chunk, ignored rows; dlogits per chunk', async () => {
    const BT = 9, V = 103;
    const targets = Int32Array.from(randomInts(BT, 3, V));
    targets[2] = IGNORE_INDEX; targets[5] = V - 1; targets[6] = 0;
    const { got, want } = await check(BT, V, 20, targets, (r) => V - 1 - r);
    for (const k of ['losses', 'loss', 'probs', 'dlogits'] as const) expectAllClose(got[k], want[k], TOL.reduction, `chunked xent ${k}`);
  });

  it('targets outside [0, V) give NaN losses and gradients, as unchunked', async () => {
    const BT = 3, V = 61;
    const { got, want } = await check(BT, V, 16, Int32Array.from([V, -5, 4]), (r) => 20 + r);
    expectNonFinite(got.losses, ['NaN', 'NaN', null], 'losses');
    expectAllClose(got.losses.subarray(2), want.losses.subarray(2), TOL.reduction, 'row 2 loss');
    expectNonFinite(got.dlogits.subarray(0, 2 * V), Array(2 * V).fill('NaN'), 'rows 0-1 dlogits');
    expectAllClose(got.probs, want.probs, TOL.reduction, 'probs');
  });
});

describe('chunked embedding gather', () => {
  it('equals the whole-table kernel bit for bit (ids at both ends of every chunk)', async () => {
    const ctx = await testContext();
    const B = 2, T = 7, C = 12, V = 50, maxT = 8;
    const split = splitVocab(limited(16 * C * 4), V, C, 1, 'wte');
    expect(split.chunks.length).toBe(4);
    const ids = randomInts(B * T, 5, V);
    split.chunks.forEach(({ v0, n }, k) => { ids[2 * k] = v0; ids[2 * k + 1] = v0 + n - 1; });
    const wte = uniformF32(V * C, 6), wpe = uniformF32(maxT * C, 7);
    const s = { B, T, C, V, maxT };
    const bufs = { ids: ctx.upload('ids', ids), wpe: ctx.upload('wpe', wpe), out: ctx.createBuffer('out', B * T * C * 4) };
    const whole = ctx.upload('wte', wte);
    await runEmbeddingForward(ctx, s, { ...bufs, wte: whole });
    const want = await ctx.readF32(bufs.out);
    ctx.write(bufs.out, new Float32Array(B * T * C).fill(NaN)); // every element must be rewritten
    const chunks = uploadVocabRows(ctx, 'wte', wte, C, split);
    const launches = await prepareEmbeddingForwardChunks(ctx, s, split, { ...bufs, wte: chunks });
    ctx.submit(launches, 'chunked embedding');
    expect(await ctx.readF32(bufs.out)).toEqual(want);
    for (const l of launches) l.destroy();
    for (const b of [whole, ...chunks, ...Object.values(bufs)]) b.destroy();
  });
});
