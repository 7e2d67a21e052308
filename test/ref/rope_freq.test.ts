import { describe, expect, it } from 'vitest';
import { RopeConfigError, invFreq, ropeTable, ropeType } from '../../src/ref/rope_freq';
import { expectAllClose } from '../helpers/allclose';

// Expected values computed by hand (in double) from transformers' modeling_rope_utils.py formulas; the
// module rounds each step to f32 as torch does, so they agree to a few f32 ulps.
const F32_ULPS = { atol: 0, rtol: 4e-7 };

describe('invFreq (rope_theta, rope_scaling) as transformers computes it', () => {
  it('default: θ^(−2j/HS); θ = 10000, HS = 8 gives 1, 0.1, 0.01, 0.001', () => {
    expectAllClose(invFreq({ rope_theta: 10000 }, 8), [1, 0.1, 0.01, 0.001], F32_ULPS, 'inv_freq');
    expectAllClose(invFreq({}, 8), [1, 0.1, 0.01, 0.001], F32_ULPS, 'rope_theta defaults to 10000');
    expect(ropeType({ rope_scaling: null })).toBe('default');
  });

  it('default: θ = 500000, HS = 64, j = 5 is 500000^(−10/64) = 0.12868737343265052', () => {
    const inv = invFreq({ rope_theta: 500000 }, 64);
    expect(inv.length).toBe(32);
    expectAllClose([inv[5]], [0.12868737343265052], F32_ULPS, 'inv_freq[5]');
    expectAllClose(inv, Array.from({ length: 32 }, (_, j) => 500000 ** (-(2 * j) / 64)), F32_ULPS, 'inv_freq');
  });

  it('linear: every frequency divided by factor (rope_type or the older type key)', () => {
    const want = [1, 0.1, 0.01, 0.001].map((v) => v / 4);
    expectAllClose(invFreq({ rope_scaling: { rope_type: 'linear', factor: 4 } }, 8), want, F32_ULPS, 'rope_type');
    expectAllClose(invFreq({ rope_scaling: { type: 'linear', factor: 4 } }, 8), want, F32_ULPS, 'type');
  });

  it('llama3 (θ 500000, HS 64, factor 8, low 1, high 4, orig 8192): kept, smoothed and divided bands', () => {
    const scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const inv = invFreq({ rope_theta: 500000, rope_scaling: scaling }, 64);
    // By hand: λ_j = 2π·500000^(j/32); hi = 8192/4 = 2048, lo = 8192/1 = 8192.
    // λ < 2048 for j ≤ 14 (kept), λ > 8192 for j ≥ 18 (÷ 8), j = 15, 16, 17 smoothed.
    const want = Array.from({ length: 32 }, (_, j) => {
      const v = 500000 ** (-(2 * j) / 64);
      const lambda = (2 * Math.PI) / v;
      if (lambda < 2048) return v;
      if (lambda > 8192) return v / 8;
      const s = (8192 / lambda - 1) / (4 - 1);
      return ((1 - s) * v) / 8 + s * v;
    });
    expectAllClose(inv, want, F32_ULPS, 'inv_freq');
    expect(inv[0]).toBe(1);
    expectAllClose([inv[14]], [500000 ** (-28 / 64)], F32_ULPS, 'j=14 kept');
    // j = 16: λ = 4442.882938…, s = (8192/λ − 1)/3 = 0.281282605…, (1 − s)·inv/8 + s·inv = 5.248461609929547e-4
    expectAllClose([inv[16]], [5.248461609929547e-4], F32_ULPS, 'j=16 smoothed');
    expectAllClose([inv[31]], [500000 ** (-62 / 64) / 8], F32_ULPS, 'j=31 divided');
  });

  it('refuses what it cannot compute exactly, naming the config key', () => {
    const refused: [Parameters<typeof invFreq>[0], number, string][] = [
      [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, 8, 'rope_scaling.rope_type'],
      [{ rope_scaling: { type: 'dynamic', factor: 2 } }, 8, 'rope_scaling.type'],
      [{ partial_rotary_factor: 0.5 }, 8, 'partial_rotary_factor'],
      [{ rope_scaling: { rope_type: 'linear' } }, 8, 'rope_scaling.factor'],
      [{ rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 } }, 8,
        'rope_scaling.original_max_position_embeddings'],
      [{ rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 8192 } }, 8,
        'rope_scaling.high_freq_factor'],
      [{ rope_theta: -1 }, 8, 'rope_theta'],
      [{}, 7, 'head_dim'],
    ];
    for (const [config, HS, key] of refused) {
      let err: unknown;
      try { invFreq(config, HS); } catch (e) { err = e; }
      expect(err, JSON.stringify(config)).toBeInstanceOf(RopeConfigError);
      expect((err as RopeConfigError).key).toBe(key);
      expect((err as Error).message).toContain(key);
    }
    expect(invFreq({ partial_rotary_factor: 1 }, 8).length).toBe(4);
  });
});

describe('ropeTable', () => {
  it('row p, column j holds cos/sin of p·inv_freq[j] (angle rounded to f32 as torch)', () => {
    const inv = Float32Array.from([1, 0.1]);
    const { cos, sin } = ropeTable(inv, 3);
    expect(Array.from(cos.slice(0, 2))).toEqual([1, 1]);
    expect(Array.from(sin.slice(0, 2))).toEqual([0, 0]);
    const want = [2, Math.fround(2 * Math.fround(0.1))];
    expectAllClose(cos.slice(4, 6), want.map(Math.cos), { atol: 0, rtol: 1e-7 }, 'cos row 2');
    expectAllClose(sin.slice(4, 6), want.map(Math.sin), { atol: 0, rtol: 1e-7 }, 'sin row 2');
  });
});
