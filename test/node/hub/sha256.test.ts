// The incremental SHA-256 (src/io/hub/sha256.ts) against node:crypto and WebCrypto: the lengths around
// the padding edges (55/56 bytes leave or not room for the length; 63/64/65 straddle a block), random
// lengths, and the same bytes fed in random splits (including empty pieces and splits inside a block).
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Sha256 } from '../../../src/io/hub/sha256';

const nodeHex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const webHex = async (b: Uint8Array) => Buffer.from(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)).toString('hex');
const oneShot = (b: Uint8Array) => new Sha256().update(b).hex();

/** A seeded generator, so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

describe('Sha256', () => {
  it('matches node:crypto and crypto.subtle.digest at the padding edges', async () => {
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
      const b = new Uint8Array(randomBytes(n));
      const want = nodeHex(b);
      expect(oneShot(b), `length ${n}`).toBe(want);
      expect(await webHex(b), `length ${n}`).toBe(want);
    }
    // The known answer for "abc" (FIPS 180-4 example), independent of both libraries.
    expect(oneShot(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('matches on random lengths, whole and in random splits', () => {
    const r = rng(13);
    for (let k = 0; k < 40; k++) {
      const n = Math.floor(r() * 5000);
      const b = new Uint8Array(randomBytes(n));
      const want = nodeHex(b);
      expect(oneShot(b), `length ${n}`).toBe(want);
      const h = new Sha256();
      for (let at = 0; at < n;) {
        const piece = Math.floor(r() * 200); // 0-byte pieces included
        h.update(b.subarray(at, at + piece));
        at += piece;
      }
      expect(h.hex(), `length ${n} split`).toBe(want);
    }
  });

  it('matches on a multi-chunk file fed as a download delivers it (uneven 64 KiB-ish chunks)', () => {
    const b = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
    const h = new Sha256();
    const sizes = [65_536, 16_384 + 5, 1, 63, 131_072 - 3];
    for (let at = 0, i = 0; at < b.byteLength; i++) {
      const n = sizes[i % sizes.length];
      h.update(b.subarray(at, at + n));
      at += n;
    }
    expect(h.hex()).toBe(nodeHex(b));
  });

  it('refuses use after digest()', () => {
    const h = new Sha256();
    h.digest();
    expect(() => h.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => h.digest()).toThrow(/twice/);
  });
});
