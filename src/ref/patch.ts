// patch reference — ViT patch embedding, a Conv2d with kernel = stride = p, the spec of the patch family.
// images (B, Cin, H, W) NCHW; weight (C, Cin, p, p) (flattened (C, Cin·p·p)); bias (C);
// out (B, P, C) with P = (H/p)·(W/p) patches in row-major (py, px) order (HF ViT's flatten(2).transpose).
// patchForward/patchBackward are a DIRECT strided convolution, an oracle independent of the GPU's
// im2col + matmul; patchIm2col is the spec of shaders/patch_im2col.wgsl alone.
import type { Arr } from './types';

export interface PatchShape {
  B: number;
  Cin: number;
  H: number;
  W: number;
  /** Patch size = kernel size = stride. */
  p: number;
  /** Output channels (ViT hidden size). */
  C: number;
}

export function patchCount(s: PatchShape): number {
  return (s.H / s.p) * (s.W / s.p);
}

/** Calls f(oy, ox, iy, ix, ci, ky, kx) for every tap of the stride-p, kernel-p convolution. */
function forEachTap(s: PatchShape, f: (py: number, px: number, ci: number, ky: number, kx: number, iy: number, ix: number) => void): void {
  const { Cin, H, W, p } = s;
  for (let py = 0; py < H / p; py++) {
    for (let px = 0; px < W / p; px++) {
      for (let ci = 0; ci < Cin; ci++) {
        for (let ky = 0; ky < p; ky++) {
          for (let kx = 0; kx < p; kx++) f(py, px, ci, ky, kx, py * p + ky, px * p + kx);
        }
      }
    }
  }
}

/** out[b, py·Wp + px, co] = bias[co] + Σ weight[co, ci, ky, kx] · images[b, ci, py·p + ky, px·p + kx]. Writes `=`. */
export function patchForward(out: Arr, images: Arr, weight: Arr, bias: Arr, s: PatchShape): void {
  const { B, Cin, H, W, p, C } = s;
  const P = patchCount(s), Wp = W / p;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < P; i++) for (let co = 0; co < C; co++) out[(b * P + i) * C + co] = bias[co];
    forEachTap(s, (py, px, ci, ky, kx, iy, ix) => {
      const pix = images[((b * Cin + ci) * H + iy) * W + ix];
      const row = (b * P + py * Wp + px) * C;
      for (let co = 0; co < C; co++) out[row + co] += weight[((co * Cin + ci) * p + ky) * p + kx] * pix;
    });
  }
}

/** dweight += Σ dout ⊗ image taps, dbias += Σ_{b,patch} dout (`+=`; the image gets no gradient). */
export function patchBackward(dweight: Arr, dbias: Arr, dout: Arr, images: Arr, s: PatchShape): void {
  const { B, Cin, H, W, p, C } = s;
  const P = patchCount(s), Wp = W / p;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < P; i++) for (let co = 0; co < C; co++) dbias[co] += dout[(b * P + i) * C + co];
    forEachTap(s, (py, px, ci, ky, kx, iy, ix) => {
      const pix = images[((b * Cin + ci) * H + iy) * W + ix];
      const row = (b * P + py * Wp + px) * C;
      for (let co = 0; co < C; co++) dweight[((co * Cin + ci) * p + ky) * p + kx] += dout[row + co] * pix;
    });
  }
}

/** patches (B·P, Cin·p·p), columns (ci, ky, kx): the gather of patch_im2col.wgsl. Writes `=`. */
export function patchIm2col(patches: Arr, images: Arr, s: PatchShape): void {
  const { B, Cin, H, W, p } = s;
  const P = patchCount(s), Wp = W / p, K = Cin * p * p;
  for (let b = 0; b < B; b++) {
    forEachTap(s, (py, px, ci, ky, kx, iy, ix) => {
      patches[(b * P + py * Wp + px) * K + (ci * p + ky) * p + kx] = images[((b * Cin + ci) * H + iy) * W + ix];
    });
  }
}
