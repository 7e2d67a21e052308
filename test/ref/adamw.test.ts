// AdamW reference against closed forms. No finite-difference check here: an optimizer step has no
// backward pass to differentiate; its oracle is the algebra of the update itself.
import { describe, expect, it } from 'vitest';
import { type AdamWHyper, adamw, adamwGroups } from '../../src/ref/adamw';
import { expectAllClose } from '../helpers/allclose';
import { uniformF64 } from '../helpers/random';

/** Float64 closed forms vs the loop agree to rounding of a handful of ops. */
const CLOSED_FORM = { atol: 1e-14, rtol: 1e-12 };
const H: AdamWHyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 1 };

describe('adamw reference', () => {
  it('single step from zero moments: p(1 − lr·wd) − lr·s·g / (|s·g| + eps)', () => {
    const n = 9, lr = 1e-2, weightDecay = 0.1, gradScale = 0.5;
    const p0 = uniformF64(n, 1), g = uniformF64(n, 2);
    g[3] = 0;          // zero gradient: only the decay acts
    g[4] = 1e-9;       // below eps: the step shrinks by |g|/(|g| + eps)
    const p = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
    adamw(p, m, v, g, { ...H, gradScale, n, offset: 0, lr, weightDecay });
    const sg = g.map((x) => x * gradScale);
    const want = p0.map((x, i) => x * (1 - lr * weightDecay) - (lr * sg[i]) / (Math.abs(sg[i]) + H.eps));
    expectAllClose(p, want, CLOSED_FORM, 'p after step 1');
    expectAllClose(m, sg.map((x) => (1 - H.beta1) * x), CLOSED_FORM, 'm after step 1');
    expectAllClose(v, sg.map((x) => (1 - H.beta2) * x * x), CLOSED_FORM, 'v after step 1');
  });

  it('constant gradient, t = 1..5: bias correction makes every step lr·g/(|g| + eps)', () => {
    // m_t = (1 − β1^t)·g and v_t = (1 − β2^t)·g², so m̂ = g and v̂ = g² at every t.
    const n = 6, lr = 3e-3;
    const p0 = uniformF64(n, 3), g = uniformF64(n, 4);
    const p = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
    for (let t = 1; t <= 5; t++) {
      adamw(p, m, v, g, { ...H, t, n, offset: 0, lr, weightDecay: 0 });
      const want = p0.map((x, i) => x - (t * lr * g[i]) / (Math.abs(g[i]) + H.eps));
      expectAllClose(p, want, CLOSED_FORM, `p after step ${t}`);
    }
  });

  it('groups update only their own range with their own lr and wd', () => {
    const n = 12;
    const p0 = uniformF64(n, 5), g = uniformF64(n, 6);
    const groups = [{ offset: 0, length: 4, lr: 1e-2, weightDecay: 0 }, { offset: 7, length: 3, lr: 1e-1, weightDecay: 0.5 }];
    const p = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
    adamwGroups(p, m, v, g, groups, H);
    for (let i = 0; i < n; i++) {
      const grp = groups.find((q) => i >= q.offset && i < q.offset + q.length);
      const want = grp ? p0[i] * (1 - grp.lr * grp.weightDecay) - (grp.lr * g[i]) / (Math.abs(g[i]) + H.eps) : p0[i];
      expect(p[i], `p[${i}]`).toBeCloseTo(want, 12);
      if (!grp) expect(m[i], `m[${i}] outside every group`).toBe(0);
    }
  });

  it('minimises a diagonal quadratic ½·Σ a·(p − c)²', () => {
    const n = 16;
    const a = uniformF64(n, 7, 0.1, 10), c = uniformF64(n, 8), p = uniformF64(n, 9, -3, 3);
    const m = new Float64Array(n), v = new Float64Array(n), g = new Float64Array(n);
    const loss = () => p.reduce((s, x, i) => s + 0.5 * a[i] * (x - c[i]) ** 2, 0);
    const initial = loss();
    let prev = initial;
    for (let t = 1; t <= 400; t++) {
      for (let i = 0; i < n; i++) g[i] = a[i] * (p[i] - c[i]);
      adamw(p, m, v, g, { ...H, t, n, offset: 0, lr: 0.05, weightDecay: 0 });
      if (t % 100 === 0) {
        expect(loss(), `loss at step ${t} below loss at step ${t - 100}`).toBeLessThan(prev);
        prev = loss();
      }
    }
    expect(loss()).toBeLessThan(1e-3 * initial);
  });
});
