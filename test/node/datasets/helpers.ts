// Shared helpers for the dataset tests: bytes from strings, the caught DatasetError, fixture files.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatasetError } from '../../../src/io/datasets';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(__dirname, '../../fixtures/datasets', name)));
}

/** The DatasetError `fn` throws; fails the test if it returns or throws something else. */
export function catchDatasetError(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DatasetError) return e;
    throw new Error(`expected a DatasetError, got ${String(e)}`);
  }
  throw new Error('expected a DatasetError, nothing was thrown');
}

export const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'];
