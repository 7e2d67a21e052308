// Shared inputs of the PEFT and export tests: the committed tiny HF checkpoints (test/fixtures) loaded
// from disk, seeded LoRA tensors under PEFT keys, and a small refusal matcher.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type LoadedGpt2, type LoadedVit, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { uniformF32 } from '../../helpers/random';

const FIXTURES = join(__dirname, '../../fixtures');

/** config.json + model.safetensors of test/fixtures/<name>, as bytes. */
export function fixtureFiles(name: 'gpt2_tiny' | 'vit_tiny'): Map<string, Uint8Array> {
  return new Map(['config.json', 'model.safetensors'].map((f) => [f, new Uint8Array(readFileSync(join(FIXTURES, name, f)))]));
}

export async function loadGpt2Tiny(): Promise<LoadedGpt2> {
  const m = await loadModelDir(sourceFromMap(fixtureFiles('gpt2_tiny')));
  if (m.kind !== 'gpt2') throw new Error('gpt2_tiny is not GPT-2');
  return m;
}

export async function loadVitTiny(numClasses?: number): Promise<LoadedVit> {
  const m = await loadModelDir(sourceFromMap(fixtureFiles('vit_tiny')), { numClasses });
  if (m.kind !== 'vit') throw new Error('vit_tiny is not ViT');
  return m;
}

export type PeftTensors = Map<string, { data: Float32Array; shape: number[] }>;

let seed = 100;
export const seeded = (shape: number[], lo = -0.5, hi = 0.5) => ({
  shape,
  data: uniformF32(shape.reduce((a, b) => a * b, 1), seed++, lo, hi),
});

/** A and B (and the DoRA magnitude) for `paths` with in/out widths. */
export function loraTensors(mods: { path: string; IN: number; OUT: number }[], r: number, dora = false): PeftTensors {
  const t: PeftTensors = new Map();
  for (const { path, IN, OUT } of mods) {
    t.set(`base_model.model.${path}.lora_A.weight`, seeded([r, IN]));
    t.set(`base_model.model.${path}.lora_B.weight`, seeded([OUT, r]));
    if (dora) t.set(`base_model.model.${path}.lora_magnitude_vector`, seeded([OUT], 0.5, 1.5));
  }
  return t;
}

/** Runs `fn` and checks the typed refusal: its class name, code, key and that the message names the file. */
export async function expectRefusal(
  fn: () => unknown, want: { name?: string; code: string; key?: string; file?: string; message?: RegExp },
): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${want.code}`).toBeInstanceOf(Error);
  const e = err as Error & { code?: string; key?: string; tensor?: string; file?: string };
  expect(e.code, e.message).toBe(want.code);
  if (want.name) expect(e.name).toBe(want.name);
  if (want.key !== undefined) expect(e.key ?? e.tensor, e.message).toBe(want.key);
  if (want.file !== undefined) {
    expect(e.file).toBe(want.file);
    expect(e.message).toContain(want.file);
  }
  if (want.message) expect(e.message).toMatch(want.message);
}
