// patch family: ViT patch embedding (Conv2d, kernel = stride = p) as im2col + matmul.
// Forward: patch_im2col.wgsl, then out = patches · weightᵀ + bias (matmul.wgsl, TRANS_B).
// Backward: dweight += dOutᵀ · patches and dbias += 1ᵀ · dOut, both matmul.wgsl with beta = 1;
// the image is an input, so it gets no gradient.
import patchIm2colWgsl from '../../shaders/patch_im2col.wgsl?raw';
import type { GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type PatchShape, patchCount } from '../ref/patch';
import { type KernelDescriptor, ceilDiv, fold2d, u32 } from '../gpu/kernel';
import { prepareMatmul } from './matmul';

export type { PatchShape };

const WG = 64;

export const patchIm2colKernel: KernelDescriptor<PatchShape> = {
  name: 'patch_im2col',
  wgsl: patchIm2colWgsl,
  bindings: ['dims:uniform', 'images:read', 'patches:rw'],
  uniforms: (s) => [u32(s.B), u32(s.Cin), u32(s.H), u32(s.W), u32(s.p)],
  overrides: () => ({ WG }),
  dispatch: (s) => fold2d(ceilDiv(s.B * patchCount(s) * s.Cin * s.p * s.p, WG)),
  key: () => `patch_im2col/wg${WG}`,
};

export function checkPatchShape(s: PatchShape): void {
  for (const d of ['B', 'Cin', 'H', 'W', 'p', 'C'] as const) {
    if (!Number.isInteger(s[d]) || s[d] < 1) throw new KernelShapeError(`patch: ${d}=${s[d]} must be a positive integer`);
  }
  if (s.H % s.p || s.W % s.p) {
    throw new KernelShapeError(`patch: image ${s.H}×${s.W} is not a multiple of the patch size p=${s.p}`);
  }
}

export interface PatchForwardBuffers {
  images: GPUBuffer;  // (B, Cin, H, W)
  weight: GPUBuffer;  // (C, Cin, p, p)
  bias: GPUBuffer;    // (C)
  patches: GPUBuffer; // (B·P, Cin·p·p), cached for the backward
  out: GPUBuffer;     // (B·P, C)
}

export interface PatchBackwardBuffers {
  dout: GPUBuffer;    // (B·P, C)
  patches: GPUBuffer; // (B·P, Cin·p·p) from the forward
  dweight: GPUBuffer; // (C, Cin·p·p), accumulated
  dbias: GPUBuffer;   // (C), accumulated
  ones: GPUBuffer;    // (B·P) of 1.0: the row-sum vector for dbias, see uploadOnes
}

/** The all-ones vector that turns the dbias row reduction into a (1 × B·P) · (B·P × C) matmul. */
export function uploadOnes(ctx: GpuContext, n: number): GPUBuffer {
  return ctx.upload('patch/ones', new Float32Array(n).fill(1));
}

export async function preparePatchIm2col(ctx: GpuContext, s: PatchShape, buf: { images: GPUBuffer; patches: GPUBuffer }): Promise<Launch> {
  checkPatchShape(s);
  return ctx.prepare(patchIm2colKernel, s, { images: buf.images, patches: buf.patches });
}

/** [im2col, matmul]: encode both in one pass. `out` is written with `=`. */
export async function preparePatchForward(ctx: GpuContext, s: PatchShape, buf: PatchForwardBuffers): Promise<Launch[]> {
  const M = s.B * patchCount(s), K = s.Cin * s.p * s.p;
  return [
    await preparePatchIm2col(ctx, s, buf),
    await prepareMatmul(ctx, { M, N: s.C, K, transB: true }, { a: buf.patches, b: buf.weight, bias: buf.bias, c: buf.out }),
  ];
}

/** [dweight, dbias]: both accumulate (`+=`, beta = 1) — zero them first for a fresh gradient. */
export async function preparePatchBackward(ctx: GpuContext, s: PatchShape, buf: PatchBackwardBuffers): Promise<Launch[]> {
  checkPatchShape(s);
  const rows = s.B * patchCount(s), K = s.Cin * s.p * s.p;
  return [
    // dweight (C, K) = dOutᵀ (C, rows) · patches (rows, K); dOut is stored (rows, C), hence transA.
    await prepareMatmul(ctx, { M: s.C, N: K, K: rows, transA: true, beta: 1 }, { a: buf.dout, b: buf.patches, c: buf.dweight }),
    // dbias (1, C) = 1ᵀ (1, rows) · dOut (rows, C).
    await prepareMatmul(ctx, { M: 1, N: s.C, K: rows, beta: 1 }, { a: buf.ones, b: buf.dout, c: buf.dbias }),
  ];
}
