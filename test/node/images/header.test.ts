// Issue 14 item 3: images are measured from their header bytes and refused by pixel count before any
// decoder runs (src/io/imageHeader.ts, src/io/imageDecode.ts); formats the loader does not accept are not
// decoded at all. The sizes read here are checked against Chromium's own decoder in
// test/gpu/imageHeader.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../../src/io/imageDecode';
import { MAX_IMAGE_PIXELS, checkImageHeader, imageSize } from '../../../src/io/imageHeader';
import { bmpCoreHeader, bmpFile, gifHeader, jpegHeader, pngHeader, webpExtended, webpLossless, webpLossy } from './build';

describe('imageSize reads each accepted format', () => {
  it.each([
    ['PNG', pngHeader(1234, 567)],
    ['JPEG', jpegHeader(1234, 567)],
    ['JPEG', jpegHeader(1234, 567, 0xc2)],
    ['GIF', gifHeader([1234, 567])],
    ['BMP', bmpFile(1234, 567, false)],
    ['BMP', bmpFile(1234, -567, false)],
    ['BMP', bmpCoreHeader(1234, 567)],
    ['WebP', webpLossy(1234, 567)],
    ['WebP', webpLossless(1234, 567)],
    ['WebP', webpExtended(1234, 567)],
  ])('%s', (format, bytes) => {
    expect(imageSize(bytes)).toEqual({ format, width: 1234, height: 567 });
  });

  it('a committed PNG of the demo (28 × 28)', () => {
    expect(imageSize(readFileSync(new URL('../../../public/demo/mnist-finetune/3/15.png', import.meta.url)))).toEqual({ format: 'PNG', width: 28, height: 28 });
  });

  it('a GIF frame that reaches past its logical screen counts', () => {
    expect(imageSize(gifHeader([10, 10], [5, 0, 60000, 3]))).toEqual({ format: 'GIF', width: 60005, height: 10 });
  });

  it('nothing for other formats or cut-short headers', () => {
    const avif = new Uint8Array([0, 0, 0, 0x1c, ...[...'ftypavif'].map((c) => c.charCodeAt(0)), 0, 0, 0, 0]);
    for (const b of [avif, new TextEncoder().encode('<svg width="99999" height="99999"/>'), new Uint8Array(0), pngHeader(5, 5).slice(0, 20), jpegHeader(5, 5).slice(0, 30)]) {
      expect(imageSize(b)).toBeNull();
    }
  });
});

describe('the pixel cap (40 megapixels) refuses before decoding, naming the file', () => {
  it('is one named constant', () => expect(MAX_IMAGE_PIXELS).toBe(40_000_000));

  it('accepts 8000 × 5000 and refuses 8001 × 5000', () => {
    expect(checkImageHeader(pngHeader(8000, 5000), 'a.png')).toEqual({ format: 'PNG', width: 8000, height: 5000 });
    expect(() => checkImageHeader(pngHeader(8001, 5000), 'a.png')).toThrow('a.png: 8001 × 5000 PNG is 40.0 megapixels, over the 40.0 megapixels limit; refused before decoding');
  });

  it.each([
    ['bomb.png', pngHeader(100_000, 100_000)],
    ['bomb.jpg', jpegHeader(65535, 65535)],
    ['bomb.gif', gifHeader([65535, 65535])],
    ['bomb.bmp', bmpFile(100_000, -100_000, false)],
    ['bomb.webp', webpExtended(16_777_216, 16_777_216)],
  ])('decodeImage refuses %s, a tiny file whose header claims gigapixels', async (name, bytes) => {
    expect(bytes.length).toBeLessThan(100);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    await expect(decodeImage(buf, `cats/${name}`)).rejects.toThrow(new RegExp(`^cats/${name.replace('.', '\\.')}: \\d+ × \\d+ \\w+ is [\\d.]+ megapixels, over the 40\\.0 megapixels limit; refused before decoding$`));
  });

  it('refuses an empty image and an unknown format, naming the file', async () => {
    expect(() => checkImageHeader(pngHeader(0, 10), 'z.png')).toThrow('z.png: the PNG header declares an empty 0 × 10 image');
    await expect(decodeImage(new TextEncoder().encode('<svg/>').buffer as ArrayBuffer, 'x/logo.png')).rejects.toThrow('x/logo.png: not a PNG, JPEG, GIF, BMP or WebP image');
  });
});
