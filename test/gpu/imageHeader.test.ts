// The header sizes of src/io/imageHeader.ts against Chromium's own decoders (an independent reference):
// canvas-encoded PNG, JPEG and WebP, and hand-built BMP and GIF, at odd sizes. And the pixel cap in the
// browser, where decodeImage runs: a tiny PNG claiming 100 000 × 100 000 is refused before decoding.
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/io/imageDecode';
import { imageSize } from '../../src/io/imageHeader';
import { bmpFile, pngHeader } from '../node/images/build';

const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());
const buffer = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

async function encoded(type: string, w: number, h: number): Promise<Uint8Array> {
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d') as OffscreenCanvasRenderingContext2D;
  g.fillStyle = '#3a7';
  g.fillRect(0, 0, w, h);
  const blob = await c.convertToBlob({ type, quality: 0.9 });
  expect(blob.type).toBe(type);
  return bytesOf(blob);
}

// A 3 × 2 GIF with one frame (screen and frame the same): six pixels of colour 0, a clear code before each.
const GIF_3x2 = Uint8Array.from(atob('R0lGODlhAwACAIAAAAAAAP///ywAAAAAAwACAAACBQRBEARRADs='), (c) => c.charCodeAt(0));

describe('imageSize agrees with createImageBitmap', () => {
  it.each([['image/png', 37, 23], ['image/jpeg', 41, 19], ['image/webp', 29, 31]])('%s %i × %i', async (type, w, h) => {
    const b = await encoded(type, w, h);
    const bitmap = await createImageBitmap(new Blob([buffer(b)]));
    expect([bitmap.width, bitmap.height]).toEqual([w, h]);
    expect(imageSize(b)).toMatchObject({ width: bitmap.width, height: bitmap.height });
  });

  it('hand-built BMP (bottom-up and top-down) and GIF', async () => {
    for (const b of [bmpFile(5, 3), bmpFile(5, -3), GIF_3x2]) {
      const bitmap = await createImageBitmap(new Blob([buffer(b)]));
      expect(imageSize(b)).toMatchObject({ width: bitmap.width, height: bitmap.height });
    }
  });

  it('decodeImage still decodes an accepted image', async () => {
    const img = await decodeImage(buffer(bmpFile(5, 3)), 'ok.bmp');
    expect([img.width, img.height, img.data.length]).toEqual([5, 3, 5 * 3 * 4]);
  });
});

it('a 33-byte PNG claiming 100 000 × 100 000 is refused before decoding, naming the file', async () => {
  await expect(decodeImage(buffer(pngHeader(100_000, 100_000)), 'cats/bomb.png'))
    .rejects.toThrow('cats/bomb.png: 100000 × 100000 PNG is 10000.0 megapixels, over the 40.0 megapixels limit; refused before decoding');
});
