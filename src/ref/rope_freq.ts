// Rotary-embedding frequencies and the cos/sin table, computed on the CPU from config.json as
// transformers does (modeling_rope_utils.py: _compute_default_rope_parameters,
// _compute_linear_scaling_rope_parameters, _compute_llama3_parameters; LlamaRotaryEmbedding.forward).
//
// transformers computes all of it in float32, and at long positions one f32 rounding of an angle is
// already ~1e-4 rad, so every step below is rounded to f32 (Math.fround) where torch rounds:
//   inv_freq[j] = 1 / θ^(2j/HS)                 j < HS/2
//   linear:       inv_freq[j] / factor          (the same as positions / factor)
//   llama3:       with λ = 2π / inv_freq, lo = orig / low_freq_factor, hi = orig / high_freq_factor:
//                 λ < hi: keep; λ > lo: inv_freq / factor; otherwise, with
//                 s = (orig/λ − low_freq_factor) / (high_freq_factor − low_freq_factor),
//                 (1 − s)·inv_freq/factor + s·inv_freq
//   angle[p, j] = p · inv_freq[j];  cos[p, j] = cos(angle), sin[p, j] = sin(angle)
// The table holds HS/2 columns per position: HF's emb = cat(freqs, freqs) repeats them for the two
// halves, which the kernel does by reading column j for both elements j and j + HS/2.
// Anything else in rope_scaling (yarn, dynamic, longrope, …) or a partial_rotary_factor ≠ 1 is refused
// with the config key named, never approximated.

/** `rope_scaling` as it appears in config.json (HF reads `rope_type`, falling back to the older `type`). */
export interface RopeScalingConfig {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** The config.json fields that decide the rotary frequencies. */
export interface RopeConfig {
  /** Default 10000 (LlamaConfig). Llama-3 500000, Qwen2.5/3 1e6. */
  rope_theta?: number;
  rope_scaling?: RopeScalingConfig | null;
  /** Only 1 (the whole head rotates) is supported. */
  partial_rotary_factor?: number;
}

/** A config the engine cannot compute exactly; `key` is the config.json key at fault. */
export class RopeConfigError extends Error {
  override name = 'RopeConfigError';
  constructor(readonly key: string, detail: string) {
    super(`config.json ${key}: ${detail}`);
  }
}

const f = Math.fround;

function positive(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RopeConfigError(key, `must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The rope type HF would run: 'default' for no scaling, else rope_scaling.rope_type ?? rope_scaling.type. */
export function ropeType(config: RopeConfig): string {
  const sc = config.rope_scaling;
  if (sc === null || sc === undefined) return 'default';
  return sc.rope_type ?? sc.type ?? 'default';
}

/** inv_freq (HS/2 values, f32 as torch computes them) for a head of HS channels. Throws RopeConfigError. */
export function invFreq(config: RopeConfig, HS: number): Float32Array {
  if (config.partial_rotary_factor !== undefined && config.partial_rotary_factor !== 1) {
    throw new RopeConfigError('partial_rotary_factor',
      `${config.partial_rotary_factor} is not supported (only 1: the rotation covers the whole head)`);
  }
  if (!Number.isInteger(HS) || HS < 2 || HS % 2 !== 0) {
    throw new RopeConfigError('head_dim', `rotary embedding needs an even head size, got ${HS}`);
  }
  const theta = f(positive(config.rope_theta ?? 10000, 'rope_theta'));
  const half = HS / 2;
  const inv = new Float32Array(half);
  for (let j = 0; j < half; j++) inv[j] = f(1 / f(theta ** f((2 * j) / HS)));

  const type = ropeType(config);
  const sc = config.rope_scaling ?? {};
  if (type === 'default') return inv;
  if (type === 'linear') {
    const factor = f(positive(sc.factor, 'rope_scaling.factor'));
    return inv.map((v) => f(v / factor));
  }
  if (type === 'llama3') return llama3(inv, sc);
  throw new RopeConfigError(sc.rope_type !== undefined ? 'rope_scaling.rope_type' : 'rope_scaling.type',
    `"${type}" is not supported (supported: none, "linear", "llama3")`);
}

function llama3(inv: Float32Array, sc: RopeScalingConfig): Float32Array {
  const factor = f(positive(sc.factor, 'rope_scaling.factor'));
  const low = positive(sc.low_freq_factor, 'rope_scaling.low_freq_factor');
  const high = positive(sc.high_freq_factor, 'rope_scaling.high_freq_factor');
  const orig = positive(sc.original_max_position_embeddings, 'rope_scaling.original_max_position_embeddings');
  if (!(high > low)) {
    throw new RopeConfigError('rope_scaling.high_freq_factor', `must exceed low_freq_factor (${low}), got ${high}`);
  }
  const loWavelen = f(orig / low);
  const hiWavelen = f(orig / high);
  const twoPi = f(2 * Math.PI);
  const span = f(high - low);
  return inv.map((v) => {
    const wavelen = f(twoPi / v);
    if (wavelen < hiWavelen) return v;
    if (wavelen > loWavelen) return f(v / factor);
    const s = f(f(f(orig) / wavelen - f(low)) / span);
    return f(f(f(f(1 - s) * v) / factor) + f(s * v));
  });
}

/** cos and sin tables, each (positions, HS/2) row-major: row p, column j is the angle p·inv_freq[j] in f32. */
export function ropeTable(inv: Float32Array, positions: number): { cos: Float32Array; sin: Float32Array } {
  const half = inv.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let j = 0; j < half; j++) {
      const angle = f(f(p) * inv[j]);
      cos[p * half + j] = Math.cos(angle);
      sin[p * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
