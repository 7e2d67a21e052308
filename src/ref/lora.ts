// lora reference — y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ around a frozen W, the spec of the matmul launches the lora
// family composes (src/kernels/lora.ts, docs/method.md#lora).
// x (N, IN); A (R, IN); B (OUT, R); h = x·Aᵀ (N, R), cached; y (N, OUT); bias (OUT) or none.
// W is nn.Linear (OUT, IN), or GPT-2 Conv1D (IN, OUT) when conv1d — the maths is always in [out, in]
// terms, W(o, i); only the index into memory changes (never a transpose in memory, docs/method.md#notation).
// Neither W nor b ever gets a gradient: they are frozen.
import type { Arr } from './types';

export interface LoraShape {
  /** Rows of x: B·T tokens (GPT-2) or B·(P+1) patch tokens (ViT). */
  N: number;
  IN: number;
  OUT: number;
  R: number;
  /** s = lora_alpha / R (rsLoRA: lora_alpha / √R). */
  scale: number;
  /** W stored (IN, OUT) as GPT-2 Conv1D, instead of nn.Linear (OUT, IN). */
  conv1d: boolean;
}

/** W(o, i) in [out, in] terms, whatever the stored layout. */
export function weightAt(w: Arr, o: number, i: number, s: Pick<LoraShape, 'IN' | 'OUT' | 'conv1d'>): number {
  return s.conv1d ? w[i * s.OUT + o] : w[o * s.IN + i];
}

/** (B·A)[o, i] = Σ_r B[o,r]·A[r,i]: one element of the unscaled LoRA delta in [out, in] terms. */
export function loraDeltaAt(loraA: Arr, loraB: Arr, o: number, i: number, s: Pick<LoraShape, 'IN' | 'R'>): number {
  let ba = 0;
  for (let r = 0; r < s.R; r++) ba += loraB[o * s.R + r] * loraA[r * s.IN + i];
  return ba;
}

/** h = x·Aᵀ (cached for backward), y = x·Wᵀ + b + s·h·Bᵀ. Both written `=`. */
export function loraForward(y: Arr, h: Arr, x: Arr, w: Arr, bias: Arr | null, loraA: Arr, loraB: Arr, s: LoraShape): void {
  const { N, IN, OUT, R } = s;
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let i = 0; i < IN; i++) acc += x[n * IN + i] * loraA[r * IN + i];
      h[n * R + r] = acc;
    }
    for (let o = 0; o < OUT; o++) {
      let base = 0;
      for (let i = 0; i < IN; i++) base += x[n * IN + i] * weightAt(w, o, i, s);
      let low = 0;
      for (let r = 0; r < R; r++) low += h[n * R + r] * loraB[o * R + r];
      y[n * OUT + o] = base + (bias ? bias[o] : 0) + s.scale * low;
    }
  }
}

/**
 * Given dy (N, OUT): dB += s·dyᵀ·h, dh = s·dy·B (written `=`, returned for the GPU comparison),
 * dA += dhᵀ·x, dx = dy·W + dh·A (written `=`, or `+=` when accumulateDx: the residual stream).
 */
export function loraBackward(
  dA: Arr, dB: Arr, dx: Arr, dh: Arr, dy: Arr, x: Arr, w: Arr, loraA: Arr, loraB: Arr, h: Arr,
  s: LoraShape, accumulateDx = false,
): void {
  const { N, IN, OUT, R } = s;
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let o = 0; o < OUT; o++) {
        acc += dy[n * OUT + o] * loraB[o * R + r];
        dB[o * R + r] += s.scale * dy[n * OUT + o] * h[n * R + r];
      }
      dh[n * R + r] = s.scale * acc;
    }
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < IN; i++) dA[r * IN + i] += dh[n * R + r] * x[n * IN + i];
    }
    for (let i = 0; i < IN; i++) {
      let acc = 0;
      for (let o = 0; o < OUT; o++) acc += dy[n * OUT + o] * weightAt(w, o, i, s);
      for (let r = 0; r < R; r++) acc += dh[n * R + r] * loraA[r * IN + i];
      dx[n * IN + i] = (accumulateDx ? dx[n * IN + i] : 0) + acc;
    }
  }
}
