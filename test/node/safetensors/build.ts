// Hand-built safetensors bytes for the conformance tests: the header text is written out literally, so
// the tests do not depend on the writer under test.
import { expect } from 'vitest';
import { SafetensorsError, type SafetensorsErrorCode } from '../../../src/io/safetensors';

export interface BuildOptions {
  /** Length prefix to write instead of the header's byte length. */
  n?: bigint;
  /** Bytes appended after the header as its padding (default: none). */
  pad?: number;
}

/** 8-byte LE length prefix + header (text or raw bytes) + data (a byte count filled 0,1,2,… or bytes). */
export function stFile(header: string | Uint8Array, data: number | Uint8Array = 0, opts: BuildOptions = {}): Uint8Array<ArrayBuffer> {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const padded = new Uint8Array(h.length + (opts.pad ?? 0)).fill(0x20);
  padded.set(h);
  const d = typeof data === 'number' ? Uint8Array.from({ length: data }, (_, i) => i & 0xff) : data;
  const out = new Uint8Array(8 + padded.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.n ?? BigInt(padded.length), true);
  out.set(padded, 8);
  out.set(d, 8 + padded.length);
  return out;
}

/** One tensor entry as JSON text. */
export function entry(dtype: string, shape: string | number[], offsets: string | [number, number]): string {
  const s = typeof shape === 'string' ? shape : `[${shape.join(',')}]`;
  const o = typeof offsets === 'string' ? offsets : `[${offsets.join(',')}]`;
  return `{"dtype":${JSON.stringify(dtype)},"shape":${s},"data_offsets":${o}}`;
}

/** Little-endian bytes of Float32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Little-endian bytes of 16-bit patterns. */
export function u16Bytes(bits: number[]): Uint8Array {
  const out = new Uint8Array(2 * bits.length);
  bits.forEach((b, i) => {
    out[2 * i] = b & 0xff;
    out[2 * i + 1] = b >>> 8;
  });
  return out;
}

/** Runs `fn`, requires a SafetensorsError with `code`, and returns it for further checks. */
export function expectStError(fn: () => unknown, code: SafetensorsErrorCode): SafetensorsError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}, nothing was thrown`).toBeDefined();
  if (!(caught instanceof SafetensorsError)) throw new Error(`expected SafetensorsError ${code}, got ${String(caught)}`);
  expect(caught.code, caught.message).toBe(code);
  return caught;
}

export async function expectStRejects(p: Promise<unknown>, code: SafetensorsErrorCode): Promise<SafetensorsError> {
  const caught = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(caught instanceof SafetensorsError)) throw new Error(`expected SafetensorsError ${code}, got ${String(caught)}`);
  expect(caught.code, caught.message).toBe(code);
  return caught;
}
