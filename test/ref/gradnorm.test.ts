// gradnorm reference: closed forms and agreement of the two-pass form with the one-pass form.
// No finite differences: the norm is only used forward (to scale the update), never differentiated.
import { describe, expect, it } from 'vitest';
import { gradnorm, gradnormFinalize, gradnormPartial } from '../../src/ref/gradnorm';
import { expectAllClose } from '../helpers/allclose';
import { uniformF64 } from '../helpers/random';

describe('gradnorm reference', () => {
  it('‖(3, 4), (12)‖ = 13; clip = min(1, maxNorm / (13 + 1e-6)) as clip_grad_norm_', () => {
    const out = new Float64Array(2);
    gradnorm(out, [Float64Array.of(3, 4), Float64Array.of(12)], 1);
    expect(out[0]).toBe(13);
    expect(out[1]).toBe(1 / (13 + 1e-6));
    gradnorm(out, [Float64Array.of(3, 4), Float64Array.of(12)], 20);
    expect(out[1]).toBe(1);
  });

  it('partial sums per chunk, then finalize, equal the one-pass norm over several tensors', () => {
    const xs = [uniformF64(7, 1), uniformF64(1000, 2), uniformF64(1, 3)];
    const chunk = 64;
    const counts = xs.map((x) => Math.ceil(x.length / chunk));
    const partials = new Float64Array(counts.reduce((a, b) => a + b));
    let partialOffset = 0;
    xs.forEach((x, k) => {
      gradnormPartial(partials, x, { n: x.length, xOffset: 0, partialOffset, chunk });
      partialOffset += counts[k];
    });
    const twoPass = new Float64Array(2), onePass = new Float64Array(2);
    gradnormFinalize(twoPass, partials, { count: partials.length, maxNorm: 0.5 });
    gradnorm(onePass, xs, 0.5);
    expectAllClose(twoPass, onePass, { atol: 0, rtol: 1e-14 }, 'two-pass vs one-pass');
    expect(onePass[1]).toBeLessThan(1);
  });
});
