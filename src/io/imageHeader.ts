// An image's width and height from its header bytes, without decoding it: a decompression bomb (a few KB of
// PNG that inflates to gigapixels) is refused by pixel count before the browser's decoder allocates for it.
// Only the formats the image-folder loader accepts (PNG, JPEG, GIF, BMP, WebP) are recognised; anything
// else is not decoded at all, since createImageBitmap sniffs the bytes, not the file name, and would
// otherwise decode formats (AVIF, ICO, …) whose sizes nobody checked.

/** Largest image accepted, in pixels (width × height): 40 megapixels, e.g. 8000 × 5000. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export type ImageFormat = 'PNG' | 'JPEG' | 'GIF' | 'BMP' | 'WebP';

export interface ImageSize {
  format: ImageFormat;
  width: number;
  height: number;
}

const ascii = (b: Uint8Array, at: number, s: string) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
const i32le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);

function png(b: Uint8Array): ImageSize | null {
  // Signature, then the IHDR chunk first: length (13), "IHDR", width and height as big-endian u32.
  if (b.length < 24 || !ascii(b, 12, 'IHDR')) return null;
  return { format: 'PNG', width: u32be(b, 16), height: u32be(b, 20) };
}

function gif(b: Uint8Array): ImageSize | null {
  if (b.length < 13) return null;
  // The logical screen, and every frame's extent: a frame may reach past the screen it claims.
  let width = u16le(b, 6);
  let height = u16le(b, 8);
  let i = 13 + (b[10] & 0x80 ? 3 << ((b[10] & 7) + 1) : 0);
  const skipSubBlocks = () => { while (i < b.length && b[i] !== 0) i += b[i] + 1; i++; };
  while (i < b.length) {
    const tag = b[i];
    if (tag === 0x3b) break; // trailer
    if (tag === 0x21) { i += 2; skipSubBlocks(); continue; } // extension: label, then data sub-blocks
    if (tag !== 0x2c || i + 10 > b.length) break; // not a frame: stop, the decoder will judge the rest
    width = Math.max(width, u16le(b, i + 1) + u16le(b, i + 5));
    height = Math.max(height, u16le(b, i + 3) + u16le(b, i + 7));
    const flags = b[i + 9];
    i += 10 + (flags & 0x80 ? 3 << ((flags & 7) + 1) : 0) + 1; // descriptor, local colour table, LZW code size
    skipSubBlocks();
  }
  return { format: 'GIF', width, height };
}

function bmp(b: Uint8Array): ImageSize | null {
  if (b.length < 26) return null;
  const dib = b[14] | (b[15] << 8) | (b[16] << 16) | (b[17] << 24);
  if (dib === 12) return { format: 'BMP', width: u16le(b, 18), height: u16le(b, 20) }; // OS/2 BITMAPCOREHEADER
  // BITMAPINFOHEADER and later: signed 32-bit; a negative height is a top-down bitmap.
  return { format: 'BMP', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

function jpeg(b: Uint8Array): ImageSize | null {
  // Walk the marker segments up to a start-of-frame (SOF0–SOF15 but DHT C4, JPG C8, DAC CC).
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    if (m === 0xff) { i++; continue; } // fill byte
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; } // no length
    if (m === 0xda || m === 0xd9) return null; // scan data or end before any frame header
    const len = u16be(b, i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (i + 9 > b.length) return null;
      return { format: 'JPEG', width: u16be(b, i + 7), height: u16be(b, i + 5) };
    }
    if (len < 2) return null;
    i += 2 + len;
  }
  return null;
}

function webp(b: Uint8Array): ImageSize | null {
  if (b.length < 25) return null;
  if (ascii(b, 12, 'VP8X') && b.length >= 30) return { format: 'WebP', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }; // extended: the canvas
  if (ascii(b, 12, 'VP8L') && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { format: 'WebP', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }; // lossless
  }
  if (ascii(b, 12, 'VP8 ') && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return { format: 'WebP', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }; // lossy key frame
  }
  return null;
}

/** The format and size an image's header declares, or null when it is none of PNG, JPEG, GIF, BMP, WebP (or cut short). */
export function imageSize(bytes: ArrayBuffer | Uint8Array): ImageSize | null {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 'PNG\r\n\x1a\n')) return png(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return gif(b);
  if (ascii(b, 0, 'BM')) return bmp(b);
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webp(b);
  return null;
}

/** Throws, naming the file, unless its header is a known format within MAX_IMAGE_PIXELS; returns its size. */
export function checkImageHeader(bytes: ArrayBuffer | Uint8Array, name: string, maxPixels = MAX_IMAGE_PIXELS): ImageSize {
  const size = imageSize(bytes);
  if (!size) throw new Error(`${name}: not a PNG, JPEG, GIF, BMP or WebP image (unrecognised or truncated header); not decoded`);
  const pixels = size.width * size.height;
  if (size.width === 0 || size.height === 0) throw new Error(`${name}: the ${size.format} header declares an empty ${size.width} × ${size.height} image`);
  if (pixels > maxPixels) {
    const mp = (n: number) => `${(n / 1e6).toFixed(1)} megapixels`;
    throw new Error(`${name}: ${size.width} × ${size.height} ${size.format} is ${mp(pixels)}, over the ${mp(maxPixels)} limit; refused before decoding`);
  }
  return size;
}
