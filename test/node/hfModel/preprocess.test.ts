// preprocessor_config.json parsing (ViTImageProcessor defaults) and the pixel pipeline, against values
// computed by hand: half-pixel bilinear taps, 8-bit rounding after each pass, then (v/255 − mean)/std.
import { describe, expect, it } from 'vitest';
import { ModelDirError } from '../../../src/io/hfModel';
import {
  ImageInputError, parsePreprocessorConfig, preprocessImage, type PixelImage, type PreprocessorConfig, VIT_PROCESSOR_DEFAULTS,
} from '../../../src/io/preprocess';
import { expectAllClose } from '../../helpers/allclose';

const F32 = { atol: 1e-6, rtol: 1e-6 }; // one float32 rounding of values of size ≤ 3
const pre = (json: object): PreprocessorConfig => parsePreprocessorConfig(JSON.stringify(json));
const model = (h: number, w = h, num_channels = 3) => ({ image_size: [h, w] as const, num_channels });

/** RGBA bytes from per-channel row-major planes (alpha varies: it must be ignored). */
function rgba(r: number[], g: number[], b: number[], w: number, h: number): PixelImage {
  const data = new Uint8ClampedArray(4 * w * h);
  for (let i = 0; i < w * h; i++) data.set([r[i], g[i], b[i], (i * 37) % 256], 4 * i);
  return { data, width: w, height: h };
}

describe('preprocessor_config.json', () => {
  it('absent file: ViTImageProcessor defaults (224, bilinear, rescale 1/255, mean = std = 0.5)', () => {
    const p = parsePreprocessorConfig(null);
    expect(p).toEqual({ ...VIT_PROCESSOR_DEFAULTS, warnings: [] });
    expect(p.size).toEqual({ height: 224, width: 224 });
    expect(p.rescale_factor).toBe(1 / 255);
  });

  it('legacy ViTFeatureExtractor form: size int, no do_rescale ⇒ rescale by 1/255', () => {
    const p = pre({ feature_extractor_type: 'ViTFeatureExtractor', do_resize: true, size: 224, resample: 2, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] });
    expect(p).toMatchObject({ size: { height: 224, width: 224 }, do_rescale: true, rescale_factor: 1 / 255, warnings: [] });
  });

  it('size as {height, width} or {shortest_edge}; crop_size; scalar mean/std; non-bilinear filters warn', () => {
    expect(pre({ size: { height: 8, width: 12 } }).size).toEqual({ height: 8, width: 12 });
    const p = pre({ size: { shortest_edge: 8 }, do_center_crop: true, crop_size: 8, image_mean: 0.5, image_std: 0.25, resample: 3 });
    expect(p).toMatchObject({ size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 }, image_mean: [0.5], image_std: [0.25] });
    expect(p.warnings[0]).toContain('bicubic');
  });

  it.each([
    ['size', { size: { longest_edge: 8 } }],
    ['size.height', { size: { height: 0, width: 8 } }],
    ['crop_size', { crop_size: { shortest_edge: 8 } }],
    ['image_std', { image_std: [0.5, 0, 0.5] }],
    ['image_mean', { image_mean: 'imagenet' }],
    ['image_mean', { image_mean: [] }],
    ['resample', { resample: 7 }],
    ['do_rescale', { do_rescale: 1 }],
    ['rescale_factor', { rescale_factor: 0 }],
  ])('refuses a bad %s, naming the file and key', (key, json) => {
    let e: unknown;
    try {
      pre(json);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ModelDirError);
    expect((e as ModelDirError).code).toBe('MODEL_PREPROCESSOR');
    expect((e as ModelDirError).key).toBe(key);
    expect((e as ModelDirError).message).toContain(`preprocessor_config.json, key "${key}"`);
  });
});

describe('preprocessImage', () => {
  it('2×2 RGBA → 4×4 bilinear, rescale, per-channel mean/std (hand-computed)', () => {
    const R = [0, 100, 200, 40];
    const G = R.map((v) => 255 - v);
    const img = rgba(R, G, [50, 50, 50, 50], 2, 2);
    const p = pre({ size: { height: 4, width: 4 }, image_mean: [0.5, 0.4, 0.3], image_std: [0.25, 0.2, 0.1] });
    const out = preprocessImage(img, p, model(4));
    // Taps for 2 → 4 at half-pixel centres: src = (x + 0.5)/2 − 0.5 = −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    // Horizontal then vertical, each rounded to 8 bits: e.g. R(1,1) = round(0.75·25 + 0.25·160) = round(58.75) = 59.
    const Rr = [0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40];
    const Gr = [255, 230, 180, 155, 205, 196, 179, 170, 105, 129, 176, 200, 55, 95, 175, 215];
    const norm = (v: number, m: number, s: number) => (v / 255 - m) / s;
    const expected = [...Rr.map((v) => norm(v, 0.5, 0.25)), ...Gr.map((v) => norm(v, 0.4, 0.2)), ...new Array(16).fill(norm(50, 0.3, 0.1))];
    expect(out.length).toBe(3 * 16);
    expectAllClose(out, expected, F32, 'pixel_values');
    expect(out[0]).toBe(-2); // R 0 → (0 − 0.5)/0.25
    expect(out[16]).toBeCloseTo(3, 6); // G 255 → (1 − 0.4)/0.2
  });

  it('grayscale (MNIST-style, 1 channel) is replicated to 3 channels; a scalar mean/std applies to all', () => {
    const img: PixelImage = { data: Uint8Array.of(0, 51, 102, 255), width: 2, height: 2, channels: 1 };
    const out = preprocessImage(img, pre({ do_resize: false, image_mean: 0.5, image_std: 0.5 }), model(2));
    const plane = [-1, 51 / 127.5 - 1, 102 / 127.5 - 1, 1];
    expectAllClose(out, [...plane, ...plane, ...plane], F32);
  });

  it('RGB to a 1-channel model uses PIL "L" luma', () => {
    const img = rgba([255, 0], [0, 255], [0, 0], 2, 1);
    const out = preprocessImage(img, pre({ do_resize: false, do_normalize: false, do_rescale: false }), model(1, 2, 1));
    expect(Array.from(out)).toEqual([76, 150]); // PIL: (255,0,0) → 76, (0,255,0) → 150
  });

  it('downsampling 4×4 → 2×2 averages the 2 nearest taps per axis (no antialias; documented deviation from PIL)', () => {
    const R = Array.from({ length: 16 }, (_, i) => 10 * i);
    const img = rgba(R, R, R, 4, 4);
    const out = preprocessImage(img, pre({ size: 2, do_rescale: false, do_normalize: false }), model(2));
    // Horizontal: src = 0.5, 2.5 → rows [5,25] [45,65] [85,105] [125,145]; vertical: means of row pairs.
    expect(Array.from(out.subarray(0, 4))).toEqual([25, 45, 105, 125]);
  });

  it('NEAREST (resample 0) picks floor((x + 0.5)·in/out)', () => {
    const img = rgba([10, 20, 30, 40], [0, 0, 0, 0], [0, 0, 0, 0], 2, 2);
    const out = preprocessImage(img, pre({ size: 4, resample: 0, do_rescale: false, do_normalize: false }), model(4));
    expect(Array.from(out.subarray(0, 16))).toEqual([10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40]);
  });

  it('same size: no resampling at all (values unchanged)', () => {
    const R = [3, 7, 11, 13];
    const out = preprocessImage(rgba(R, R, R, 2, 2), pre({ size: 2, do_rescale: false, do_normalize: false }), model(2));
    expect(Array.from(out.subarray(0, 4))).toEqual(R);
  });

  it('shortest_edge keeps the aspect ratio; center crop takes the middle', () => {
    // 2 rows × 4 columns, shortest edge 4 → 4 × 8, crop 4 × 4 keeps columns 2..5.
    const R = [0, 40, 80, 120, 0, 40, 80, 120];
    const p = pre({ size: { shortest_edge: 4 }, do_center_crop: true, crop_size: { height: 4, width: 4 }, do_rescale: false, do_normalize: false });
    const out = preprocessImage(rgba(R, R, R, 4, 2), p, model(4));
    // 4 → 8 taps: src = (x + 0.5)/2 − 0.5; columns 2..5 → src 0.75, 1.25, 1.75, 2.25 → 30, 50, 70, 90.
    expect(Array.from(out.subarray(0, 4))).toEqual([30, 50, 70, 90]);
    expect(Array.from(out.subarray(12, 16))).toEqual([30, 50, 70, 90]);
  });

  it.each([
    ['a buffer of the wrong length', { data: new Uint8ClampedArray(15), width: 2, height: 2 }, model(2)],
    ['a zero-size image', { data: new Uint8ClampedArray(0), width: 0, height: 2 }, model(2)],
    ['a result that is not image_size', { data: new Uint8ClampedArray(16), width: 2, height: 2 }, model(3)],
    ['a decompression-bomb size', { data: new Uint8ClampedArray(4), width: 30000, height: 30000 }, model(2)],
  ])('refuses %s with ImageInputError (DATA_IMAGE)', (_what, img, m) => {
    expect(() => preprocessImage(img as PixelImage, pre({ do_resize: false }), m)).toThrow(ImageInputError);
  });

  it('refuses mean/std that do not fit the channel count', () => {
    const img = rgba([0], [0], [0], 1, 1);
    expect(() => preprocessImage(img, pre({ do_resize: false, image_std: [0.5, 0.5] }), model(1))).toThrow(/image_std/);
  });
});
