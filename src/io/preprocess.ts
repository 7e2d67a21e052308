// preprocessor_config.json (docs/formats.md#preprocessor) and the pure pixel pipeline that turns canvas RGBA bytes
// into ViT's `pixel_values` (C, H, W) Float32, in transformers' ViTImageProcessor order:
// convert channels → resize → (center crop) → rescale → normalize with the file's own mean/std.
//
// Resize: separable bilinear with half-pixel centres and edge clamping, rounded to 8 bits after each
// pass (horizontal first), as PIL does for the uint8 images transformers hands it. When UPSAMPLING (e.g.
// MNIST 28 → 224) this is PIL's BILINEAR filter exactly, up to PIL's fixed-point coefficient rounding.
// DEVIATION: when DOWNSAMPLING, PIL widens the filter to the scale factor (antialiasing, every source
// pixel contributes); here only the 2×2 nearest source pixels do, like torch interpolate(antialias=False),
// so downscaled images are sharper/aliased than transformers'. Other `resample` filters (bicubic,
// lanczos, …) fall back to this bilinear and say so in `warnings`; NEAREST (0) is implemented as PIL's.
import type { VitConfig } from './hfModel/config';
import { ModelDirError } from './hfModel/errors';
import { JsonFields, parseJsonObject, type JsonValue } from './hfModel/json';

export const PREPROCESSOR_FILE = 'preprocessor_config.json';

export type SizeSpec = { height: number; width: number } | { shortest_edge: number };

export interface PreprocessorConfig {
  do_resize: boolean;
  /** `size: 224` (legacy ViTFeatureExtractor) is read as {height: 224, width: 224}. */
  size: SizeSpec;
  /** PIL filter code: 0 nearest, 2 bilinear (default), 3 bicubic, 1 lanczos, 4 box, 5 hamming. */
  resample: number;
  do_center_crop: boolean;
  crop_size: { height: number; width: number } | null;
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  /** One value per channel, or one value for all channels. */
  image_mean: number[];
  image_std: number[];
  /** Non-fatal notes (approximated resample filter). */
  warnings: string[];
}

/** ViTImageProcessor defaults (transformers): used for every key the file does not set. */
export const VIT_PROCESSOR_DEFAULTS: Readonly<Omit<PreprocessorConfig, 'warnings'>> = {
  do_resize: true,
  size: { height: 224, width: 224 },
  resample: 2,
  do_center_crop: false,
  crop_size: null,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5], // IMAGENET_STANDARD_MEAN
  image_std: [0.5, 0.5, 0.5],
};

const RESAMPLE_NAMES = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'];
const MAX_SIDE = 1 << 14;

/** Parses the file (bytes or text); `null` (no file) gives the ViTImageProcessor defaults. */
export function parsePreprocessorConfig(source: string | ArrayBuffer | Uint8Array | null, file = PREPROCESSOR_FILE): PreprocessorConfig {
  const d = VIT_PROCESSOR_DEFAULTS;
  if (source === null) return { ...d, image_mean: [...d.image_mean], image_std: [...d.image_std], warnings: [] };
  const f = new JsonFields(parseJsonObject(source, file, 'MODEL_PREPROCESSOR'), file, 'MODEL_PREPROCESSOR');
  const resample = f.int('resample', d.resample, { min: 0, max: 5 });
  const warnings: string[] = [];
  if (resample !== 0 && resample !== 2) {
    warnings.push(`${file}: resample ${resample} (${RESAMPLE_NAMES[resample]}) is approximated by bilinear resizing`);
  }
  const sizeValue = f.obj.get('size');
  const cropValue = f.obj.get('crop_size');
  return {
    do_resize: f.bool('do_resize', d.do_resize),
    size: sizeValue === undefined ? { ...d.size } : parseSize(f, 'size', sizeValue, true),
    resample,
    do_center_crop: f.bool('do_center_crop', d.do_center_crop),
    crop_size: cropValue === undefined || cropValue === null ? null : (parseSize(f, 'crop_size', cropValue, false) as { height: number; width: number }),
    do_rescale: f.bool('do_rescale', d.do_rescale),
    rescale_factor: f.float('rescale_factor', d.rescale_factor, { exclusiveMin: 0 }),
    do_normalize: f.bool('do_normalize', d.do_normalize),
    image_mean: stats(f, 'image_mean', d.image_mean, false),
    image_std: stats(f, 'image_std', d.image_std, true),
    warnings,
  };
}

/** An int (square, get_size_dict's default_to_square), {height, width}, or {shortest_edge} (size only). */
function parseSize(f: JsonFields, key: string, v: JsonValue, allowShortest: boolean): SizeSpec {
  const side = (k: string, x: JsonValue | undefined) => new JsonFields(new Map([[k, x ?? null]]), f.file, f.code).int(k, 0, { min: 1, max: MAX_SIDE });
  if (!(v instanceof Map)) {
    const n = side(key, v);
    return { height: n, width: n };
  }
  const keys = [...v.keys()].sort().join(',');
  if (keys === 'height,width') return { height: side(`${key}.height`, v.get('height')), width: side(`${key}.width`, v.get('width')) };
  if (keys === 'shortest_edge' && allowShortest) return { shortest_edge: side(`${key}.shortest_edge`, v.get('shortest_edge')) };
  const allowed = allowShortest ? '{"height", "width"} or {"shortest_edge"}' : '{"height", "width"}';
  return f.fail(key, `has keys {${keys}}; supported: an integer, ${allowed}`);
}

function stats(f: JsonFields, key: string, fallback: readonly number[], positive: boolean): number[] {
  const v = f.obj.get(key);
  if (v === undefined) return [...fallback];
  const range = positive ? { exclusiveMin: 0 } : {};
  if (!Array.isArray(v)) return [f.checkFloat(key, v as JsonValue, range)];
  if (v.length === 0) f.fail(key, 'is an empty list');
  return v.map((x) => f.checkFloat(key, x, range));
}

/**
 * Checks that the pipeline yields what the model takes: mean/std per channel, and an output of
 * image_size (resize target, then crop). A `shortest_edge` resize yields image_size only for square
 * inputs; that is checked per image in preprocessImage.
 */
export function checkPreprocessorFits(pre: PreprocessorConfig, model: Pick<VitConfig, 'image_size' | 'num_channels'>, file = PREPROCESSOR_FILE): void {
  const fail = (key: string, detail: string): never => {
    throw new ModelDirError('MODEL_PREPROCESSOR', file, detail, { key });
  };
  checkStats(pre, model.num_channels, file);
  const [H, W] = model.image_size;
  const out = pre.do_center_crop && pre.crop_size ? pre.crop_size : pre.do_resize && 'height' in pre.size ? pre.size : null;
  if (out && (out.height !== H || out.width !== W)) {
    const key = pre.do_center_crop && pre.crop_size ? 'crop_size' : 'size';
    fail(key, `produces ${out.height}×${out.width} images but the model's image_size is ${H}×${W}`);
  }
  if (!out && pre.do_resize && 'shortest_edge' in pre.size && pre.size.shortest_edge !== Math.min(H, W)) {
    fail('size', `shortest_edge ${pre.size.shortest_edge} cannot produce the model's ${H}×${W} images`);
  }
}

/** mean/std need one value, or one per channel; only read when do_normalize is set. */
function checkStats(pre: PreprocessorConfig, channels: number, file: string): void {
  if (!pre.do_normalize) return;
  for (const key of ['image_mean', 'image_std'] as const) {
    const n = pre[key].length;
    if (n !== 1 && n !== channels) {
      throw new ModelDirError('MODEL_PREPROCESSOR', file, `has ${n} values; the model has ${channels} channel(s)`, { key });
    }
  }
}

/** Pixels as a canvas gives them (RGBA), or packed RGB / grayscale bytes. */
export interface PixelImage {
  data: Uint8ClampedArray | Uint8Array;
  width: number;
  height: number;
  /** Interleaved channels per pixel; default 4 (canvas ImageData). */
  channels?: 1 | 3 | 4;
}

/** A pixel input this pipeline cannot take (size mismatch, too large): docs/failure-scenarios.md#b4. */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
  readonly code = 'DATA_IMAGE';
}

/** Largest accepted input (decompression-bomb guard, docs/failure-scenarios.md#b4): 64 Mpixel. */
export const MAX_PIXELS = 1 << 26;

/**
 * RGBA (or RGB / gray) bytes → `pixel_values` of one image, (num_channels, H, W) row-major Float32.
 * Alpha is dropped (PIL convert("RGB") without compositing); gray input is replicated to 3 channels;
 * RGB → 1 channel uses PIL's "L" luma. Throws ImageInputError if the result is not image_size.
 */
export function preprocessImage(img: PixelImage, pre: PreprocessorConfig, model: Pick<VitConfig, 'image_size' | 'num_channels'>): Float32Array {
  checkStats(pre, model.num_channels, PREPROCESSOR_FILE);
  const planes = toPlanes(img, model.num_channels);
  let h = img.height;
  let w = img.width;
  let cur = planes;
  if (pre.do_resize) {
    const [th, tw] = resizeTarget(pre.size, h, w);
    cur = cur.map((p) => (pre.resample === 0 ? resizeNearest(p, w, h, tw, th) : resizeBilinear(p, w, h, tw, th)));
    h = th;
    w = tw;
  }
  if (pre.do_center_crop && pre.crop_size) {
    const { height: ch, width: cw } = pre.crop_size;
    if (ch > h || cw > w) throw new ImageInputError(`center crop ${ch}×${cw} is larger than the resized image ${h}×${w}`);
    const top = Math.floor((h - ch) / 2);
    const left = Math.floor((w - cw) / 2);
    cur = cur.map((p) => crop(p, w, top, left, ch, cw));
    h = ch;
    w = cw;
  }
  const [H, W] = model.image_size;
  if (h !== H || w !== W) throw new ImageInputError(`preprocessing gives ${h}×${w} pixels but the model takes ${H}×${W}; resize the image first`);
  return normalize(cur, pre, h * w);
}

function toPlanes(img: PixelImage, numChannels: number): Float32Array[] {
  const { data, width, height } = img;
  const ch = img.channels ?? 4;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageInputError(`image size ${width}×${height} is not a positive integer size`);
  }
  if (width * height > MAX_PIXELS) throw new ImageInputError(`image is ${width}×${height} pixels; the limit is ${MAX_PIXELS}`);
  if (data.length !== width * height * ch) {
    throw new ImageInputError(`pixel buffer has ${data.length} bytes; ${width}×${height}×${ch} needs ${width * height * ch}`);
  }
  const n = width * height;
  const planes = Array.from({ length: numChannels }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    const o = i * ch;
    if (ch === 1) {
      for (const p of planes) p[i] = data[o];
    } else if (numChannels === 1) {
      // PIL's "L" conversion (ITU-R 601-2 luma) in its own fixed-point arithmetic.
      planes[0][i] = (data[o] * 19595 + data[o + 1] * 38470 + data[o + 2] * 7471 + 0x8000) >> 16;
    } else {
      for (let c = 0; c < numChannels; c++) planes[c][i] = data[o + Math.min(c, 2)];
    }
  }
  return planes;
}

/** Output [height, width] of the resize step (transformers get_resize_output_image_size for shortest_edge). */
export function resizeTarget(size: SizeSpec, h: number, w: number): [number, number] {
  if ('height' in size) return [size.height, size.width];
  const s = size.shortest_edge;
  // int() truncation, as transformers computes the long side.
  return h <= w ? [s, Math.trunc((s * w) / h)] : [Math.trunc((s * h) / w), s];
}

/** Per output index: the two source indices and the weight of the second (half-pixel centres, clamped). */
function taps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let x = 0; x < outSize; x++) {
    const src = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), inSize - 1);
    i0[x] = Math.floor(src);
    i1[x] = Math.min(i0[x] + 1, inSize - 1);
    t[x] = src - i0[x];
  }
  return { i0, i1, t };
}

/** 8-bit result of one PIL pass: round half up, clamp to 0..255. */
const u8 = (v: number) => Math.min(255, Math.max(0, Math.floor(v + 0.5)));

/** One plane (values 0..255), horizontal pass then vertical pass, as PIL (a pass is skipped when the size is unchanged). */
export function resizeBilinear(src: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  let cur = src;
  if (outW !== w) {
    const { i0, i1, t } = taps(w, outW);
    const next = new Float32Array(outW * h);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < outW; x++) next[y * outW + x] = u8(cur[row + i0[x]] * (1 - t[x]) + cur[row + i1[x]] * t[x]);
    }
    cur = next;
  }
  if (outH !== h) {
    const { i0, i1, t } = taps(h, outH);
    const next = new Float32Array(outW * outH);
    for (let y = 0; y < outH; y++) {
      const r0 = i0[y] * outW;
      const r1 = i1[y] * outW;
      for (let x = 0; x < outW; x++) next[y * outW + x] = u8(cur[r0 + x] * (1 - t[y]) + cur[r1 + x] * t[y]);
    }
    cur = next;
  }
  return cur === src ? src.slice() : cur;
}

/** PIL NEAREST: source index floor((x + 0.5) · in / out). */
export function resizeNearest(src: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * h) / outH), h - 1);
    for (let x = 0; x < outW; x++) out[y * outW + x] = src[sy * w + Math.min(Math.floor(((x + 0.5) * w) / outW), w - 1)];
  }
  return out;
}

function crop(p: Float32Array, w: number, top: number, left: number, ch: number, cw: number): Float32Array {
  const out = new Float32Array(ch * cw);
  for (let y = 0; y < ch; y++) out.set(p.subarray((top + y) * w + left, (top + y) * w + left + cw), y * cw);
  return out;
}

/**
 * transformers' arithmetic: rescale in float64 then cast to float32, normalize in float32
 * ((x − mean) / std with mean and std cast to float32), so results match numpy bit for bit.
 */
function normalize(planes: Float32Array[], pre: PreprocessorConfig, n: number): Float32Array {
  const out = new Float32Array(planes.length * n);
  const f = Math.fround;
  planes.forEach((p, c) => {
    const mean = f(pre.image_mean[pre.image_mean.length === 1 ? 0 : c]);
    const std = f(pre.image_std[pre.image_std.length === 1 ? 0 : c]);
    for (let i = 0; i < n; i++) {
      let v = pre.do_rescale ? f(p[i] * pre.rescale_factor) : p[i];
      if (pre.do_normalize) v = f(f(v - mean) / std);
      out[c * n + i] = v;
    }
  });
  return out;
}
