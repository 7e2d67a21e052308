import { describe, expect, it } from 'vitest';
import { argmax, createRng, sampleToken, samplingProbs, topKIndices } from '../../src/model/sampling';

const LOGITS = Float32Array.from([0.3, -1.2, 2.5, 0.9, 2.4, -0.1, 1.7, 0.0]);

describe('sampling maths on hand-made logits', () => {
  it('argmax takes the largest logit, the lowest id on ties', () => {
    expect(argmax(LOGITS)).toBe(2);
    expect(argmax(Float32Array.from([1, 3, 3, -2]))).toBe(1);
    expect(topKIndices(LOGITS, 3)).toEqual([2, 4, 6]);
    expect(topKIndices(Float32Array.from([1, 3, 3, -2]), 2)).toEqual([1, 2]);
    expect(topKIndices(LOGITS, 0)).toHaveLength(LOGITS.length);
  });

  it('greedy (τ = 0) and top-k = 1 at any temperature always give argmax', () => {
    const rng = createRng(1);
    for (let i = 0; i < 200; i++) {
      expect(sampleToken(LOGITS, {}, rng)).toBe(2);
      expect(sampleToken(LOGITS, { temperature: 3, topK: 1 }, rng)).toBe(2);
    }
  });

  it('τ → 0 concentrates the distribution on argmax', () => {
    const p = samplingProbs(LOGITS, { temperature: 1e-3 });
    expect(p[2]).toBe(1); // the runner-up is 0.1/τ = 100 nats behind: exp(−100) vanishes beside 1
    const rng = createRng(2);
    for (let i = 0; i < 200; i++) expect(sampleToken(LOGITS, { temperature: 1e-3 }, rng)).toBe(2);
    // Wider τ really does spread: the argmax loses mass.
    expect(samplingProbs(LOGITS, { temperature: 1 })[2]).toBeLessThan(0.5);
  });

  it('probabilities are softmax(logits/τ) renormalised over the top k, 0 elsewhere', () => {
    const tau = 0.7, k = 3;
    const p = samplingProbs(LOGITS, { temperature: tau, topK: k });
    const e = [2, 4, 6].map((i) => Math.exp(LOGITS[i] / tau));
    const z = e.reduce((a, b) => a + b, 0);
    [2, 4, 6].forEach((id, j) => expect(p[id]).toBeCloseTo(e[j] / z, 12));
    for (const id of [0, 1, 3, 5, 7]) expect(p[id]).toBe(0);
  });

  it('a fixed seed repeats the draws; another seed does not', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => sampleToken(LOGITS, { temperature: 1.3 }, rng));
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });

  // Pearson's chi-square over the categories with mass: for df = m − 1 degrees of freedom the
  // statistic has mean df and sd √(2·df); mean + 6 sd is a bound a correct sampler crosses with
  // probability < 1e-5, while a wrong τ or a wrong renormalisation moves it by hundreds.
  for (const [tau, k] of [[1, 0], [0.5, 0], [2, 4]] as const) {
    it(`10k seeded draws match softmax(logits/τ) (τ=${tau}, top-k=${k || 'all'}) within a chi-square bound`, () => {
      const n = 10_000;
      const p = samplingProbs(LOGITS, { temperature: tau, topK: k });
      const counts = new Float64Array(LOGITS.length);
      const rng = createRng(1234);
      for (let i = 0; i < n; i++) counts[sampleToken(LOGITS, { temperature: tau, topK: k }, rng)]++;
      let chi2 = 0, df = -1;
      for (let i = 0; i < p.length; i++) {
        if (p[i] === 0) {
          expect(counts[i], `id ${i} is outside the top k`).toBe(0);
          continue;
        }
        chi2 += (counts[i] - n * p[i]) ** 2 / (n * p[i]);
        df++;
      }
      expect(df).toBe((k || LOGITS.length) - 1);
      expect(chi2).toBeLessThan(df + 6 * Math.sqrt(2 * df));
    });
  }

  it('rejects a negative temperature, a fractional top-k and NaN logits', () => {
    expect(() => samplingProbs(LOGITS, { temperature: -1 })).toThrow(/temperature/);
    expect(() => samplingProbs(LOGITS, { temperature: 1, topK: 1.5 })).toThrow(/topK/);
    expect(() => argmax(Float32Array.from([0, NaN]))).toThrow(/NaN/);
  });
});
