// An ImageNet-C-style robustness set (Hendrycks & Dietterich 2019) built from the held-out images: Gaussian
// noise, Gaussian blur, rotation and contrast, one severity each (CorruptionSpec), applied in [0, 1] pixel
// space to the already-preprocessed images (the normalisation is undone, the corruption applied, the
// result clipped to [0, 1] and normalised again). Random draws come from the project's Philox streams
// (src/ref/rng), keyed by (spec seed, corruption, image index): the same spec gives the same images
// everywhere. Pure TypeScript: runs in the engine page and in Node tests.
import { rngNormal, rngUniform } from '../../ref/rng';
import type { CorruptionSpec } from './grid';

export type CorruptionName = 'gaussian_noise' | 'blur' | 'rotation' | 'contrast';
export const CORRUPTIONS: readonly CorruptionName[] = ['gaussian_noise', 'blur', 'rotation', 'contrast'];

export interface ImageShape {
  C: number;
  H: number;
  W: number;
  /** The preprocessor's normalisation (one value per channel, or one for all); identity when absent. */
  mean: number[];
  std: number[];
}

const STREAM: Record<CorruptionName, number> = { gaussian_noise: 1, blur: 2, rotation: 3, contrast: 4 };

const chan = (v: number[], c: number) => (v.length === 1 ? v[0] : v[c]);

function toUnit(x: Float32Array, s: ImageShape): Float64Array {
  const HW = s.H * s.W, out = new Float64Array(x.length);
  for (let c = 0; c < s.C; c++) {
    const m = chan(s.mean, c), sd = chan(s.std, c);
    for (let i = 0; i < HW; i++) out[c * HW + i] = x[c * HW + i] * sd + m;
  }
  return out;
}

function fromUnit(u: Float64Array, s: ImageShape): Float32Array {
  const HW = s.H * s.W, out = new Float32Array(u.length);
  for (let c = 0; c < s.C; c++) {
    const m = chan(s.mean, c), sd = chan(s.std, c);
    for (let i = 0; i < HW; i++) out[c * HW + i] = (Math.min(1, Math.max(0, u[c * HW + i])) - m) / sd;
  }
  return out;
}

function gaussianNoise(u: Float64Array, sigma: number, seed: number, index: number): void {
  const z = new Float32Array(u.length);
  rngNormal(z, { n: z.length, seedLo: seed >>> 0, seedHi: STREAM.gaussian_noise, offset: index, mean: 0, std: sigma });
  for (let i = 0; i < u.length; i++) u[i] += z[i];
}

/** Separable Gaussian blur, kernel radius ⌈3σ⌉, borders clamped. */
function blur(u: Float64Array, s: ImageShape, sigma: number): Float64Array {
  const rad = Math.max(1, Math.ceil(3 * sigma));
  const k: number[] = [];
  for (let d = -rad; d <= rad; d++) k.push(Math.exp(-(d * d) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const { H, W } = s, HW = H * W;
  const tmp = new Float64Array(u.length), out = new Float64Array(u.length);
  for (let c = 0; c < s.C; c++) {
    const o = c * HW;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let a = 0;
        for (let d = -rad; d <= rad; d++) a += k[d + rad] * u[o + y * W + Math.min(W - 1, Math.max(0, x + d))];
        tmp[o + y * W + x] = a / ks;
      }
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let a = 0;
        for (let d = -rad; d <= rad; d++) a += k[d + rad] * tmp[o + Math.min(H - 1, Math.max(0, y + d)) * W + x];
        out[o + y * W + x] = a / ks;
      }
    }
  }
  return out;
}

/** Rotation about the image centre (counter-clockwise for positive degrees), bilinear, fill 0 (black). */
export function rotate(u: Float64Array, s: ImageShape, degrees: number): Float64Array {
  const { H, W } = s, HW = H * W;
  const t = (degrees * Math.PI) / 180, cos = Math.cos(t), sin = Math.sin(t);
  const cx = (W - 1) / 2, cy = (H - 1) / 2;
  const out = new Float64Array(u.length);
  const at = (o: number, x: number, y: number) => (x < 0 || y < 0 || x >= W || y >= H ? 0 : u[o + y * W + x]);
  for (let c = 0; c < s.C; c++) {
    const o = c * HW;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        // Inverse map: the source pixel that lands on (x, y). Image y points down, so a counter-clockwise
        // turn on screen is a clockwise one in (x, y).
        const dx = x - cx, dy = y - cy;
        const sx = cos * dx - sin * dy + cx, sy = sin * dx + cos * dy + cy;
        const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
        out[o + y * W + x] = (1 - fy) * ((1 - fx) * at(o, x0, y0) + fx * at(o, x0 + 1, y0)) + fy * ((1 - fx) * at(o, x0, y0 + 1) + fx * at(o, x0 + 1, y0 + 1));
      }
    }
  }
  return out;
}

/** The rotation angle of image `index` (degrees): magnitude uniform in [min, max], random sign. */
export function rotationAngle(spec: CorruptionSpec, index: number): number {
  const v = new Float32Array(2);
  rngUniform(v, { n: 2, seedLo: spec.seed >>> 0, seedHi: STREAM.rotation, offset: index });
  const mag = spec.rotateMinDeg + (spec.rotateMaxDeg - spec.rotateMinDeg) * v[0];
  return v[1] < 0.5 ? -mag : mag;
}

function contrast(u: Float64Array, s: ImageShape, factor: number): void {
  const HW = s.H * s.W;
  for (let c = 0; c < s.C; c++) {
    let m = 0;
    for (let i = 0; i < HW; i++) m += u[c * HW + i];
    m /= HW;
    for (let i = 0; i < HW; i++) u[c * HW + i] = (u[c * HW + i] - m) * factor + m;
  }
}

/** The corrupted copy of one preprocessed image (index = its position in the held-out set). */
export function corruptImage(pixels: Float32Array, shape: ImageShape, name: CorruptionName, spec: CorruptionSpec, index: number): Float32Array {
  if (pixels.length !== shape.C * shape.H * shape.W) throw new Error(`corrupt: ${pixels.length} values for ${shape.C}×${shape.H}×${shape.W}`);
  let u = toUnit(pixels, shape);
  switch (name) {
    case 'gaussian_noise': gaussianNoise(u, spec.noiseSigma, spec.seed, index); break;
    case 'blur': u = blur(u, shape, spec.blurSigma); break;
    case 'rotation': u = rotate(u, shape, rotationAngle(spec, index)); break;
    case 'contrast': contrast(u, shape, spec.contrast); break;
  }
  return fromUnit(u, shape);
}

/** Human-readable severity of each corruption, for the report. */
export function describeCorruptions(spec: CorruptionSpec): Record<CorruptionName, string> {
  return {
    gaussian_noise: `additive N(0, ${spec.noiseSigma}²) on [0, 1] pixels, clipped`,
    blur: `Gaussian blur, σ = ${spec.blurSigma} px (separable, radius ⌈3σ⌉, clamped borders)`,
    rotation: `rotation by ±${spec.rotateMinDeg}–${spec.rotateMaxDeg}° (uniform magnitude, random sign), bilinear, black fill`,
    contrast: `contrast × ${spec.contrast} around each image's mean`,
  };
}
