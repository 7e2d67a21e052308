// Image headers built byte by byte, for the pixel-cap tests: each declares a width and height and holds
// little or no pixel data (a bomb's shape: a few bytes that claim gigapixels).
const u16le = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const u16be = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
const u32le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const text = (s: string) => [...s].map((c) => c.charCodeAt(0));

export function pngHeader(w: number, h: number): Uint8Array {
  return new Uint8Array([0x89, ...text('PNG\r\n\x1a\n'), ...u32be(13), ...text('IHDR'), ...u32be(w), ...u32be(h), 8, 6, 0, 0, 0, 0, 0, 0, 0]);
}

/** A JFIF APP0 and a DHT segment before the frame header, as real files have them; `sof` 0xc0 baseline, 0xc2 progressive. */
export function jpegHeader(w: number, h: number, sof = 0xc0): Uint8Array {
  const app0 = [0xff, 0xe0, ...u16be(16), ...text('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const dht = [0xff, 0xc4, ...u16be(5), 0x00, 0xaa, 0xbb]; // a segment whose marker is in the SOF range but is not one
  const frame = [0xff, sof, ...u16be(11), 8, ...u16be(h), ...u16be(w), 1, 1, 0x11, 0];
  return new Uint8Array([0xff, 0xd8, ...app0, ...dht, ...frame, 0xff, 0xd9]);
}

/** A GIF whose logical screen is `screen` and whose one frame sits at `frame` (left, top, width, height). */
export function gifHeader(screen: [number, number], frame?: [number, number, number, number]): Uint8Array {
  const head = [...text('GIF89a'), ...u16le(screen[0]), ...u16le(screen[1]), 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]; // 2-colour table
  const gce = [0x21, 0xf9, 4, 0, 0, 0, 0, 0];
  const img = frame ? [0x2c, ...u16le(frame[0]), ...u16le(frame[1]), ...u16le(frame[2]), ...u16le(frame[3]), 0, 2, 2, 0x4c, 0x01, 0] : [];
  return new Uint8Array([...head, ...gce, ...img, 0x3b]);
}

/** A complete 24-bit BMP (BITMAPINFOHEADER) of w × |h| grey pixels; a negative h is top-down. */
export function bmpFile(w: number, h: number, withPixels = true): Uint8Array {
  const row = Math.ceil((w * 3) / 4) * 4;
  const data = withPixels ? new Array(row * Math.abs(h)).fill(0x80) : [];
  const size = 54 + data.length;
  return new Uint8Array([...text('BM'), ...u32le(size), 0, 0, 0, 0, ...u32le(54), ...u32le(40), ...u32le(w), ...u32le(h), ...u16le(1), ...u16le(24),
    ...u32le(0), ...u32le(data.length), ...u32le(2835), ...u32le(2835), ...u32le(0), ...u32le(0), ...data]);
}

export function bmpCoreHeader(w: number, h: number): Uint8Array {
  return new Uint8Array([...text('BM'), ...u32le(26), 0, 0, 0, 0, ...u32le(26), ...u32le(12), ...u16le(w), ...u16le(h), ...u16le(1), ...u16le(24)]);
}

const riff = (chunk: number[]) => new Uint8Array([...text('RIFF'), ...u32le(4 + chunk.length), ...text('WEBP'), ...chunk]);

export function webpLossy(w: number, h: number): Uint8Array {
  return riff([...text('VP8 '), ...u32le(10), 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...u16le(w), ...u16le(h)]);
}

export function webpLossless(w: number, h: number): Uint8Array {
  const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
  return riff([...text('VP8L'), ...u32le(5), 0x2f, ...u32le(bits >>> 0), 0, 0, 0]);
}

export function webpExtended(w: number, h: number): Uint8Array {
  return riff([...text('VP8X'), ...u32le(10), 0, 0, 0, 0, ...u24le(w - 1), ...u24le(h - 1)]);
}
