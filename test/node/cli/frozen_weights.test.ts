// `lorasc train --frozen-weights stored|f32` (docs/engineering.md#frozen-weights): the flag reaches the job,
// and any other value is refused in one line naming the flag and what it got.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobFor } from '../../../src/cli/main';

const base = mkdtempSync(join(tmpdir(), 'lorasc-frozen-flag-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function argv(...extra: string[]): string[] {
  const model = join(base, 'model');
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, 'config.json'), '{}');
  writeFileSync(join(model, 'model.safetensors'), '');
  writeFileSync(join(base, 'rows.txt'), 'a line\n');
  return ['train', '--model', model, '--data', join(base, 'rows.txt'), '--out', join(base, `out${Math.random()}`), ...extra];
}

describe('--frozen-weights', () => {
  it('stored and f32 reach the train job; absent leaves the default to the run', () => {
    const job = (a: string[]) => jobFor(a).job as { frozenWeights?: string };
    expect(job(argv('--frozen-weights', 'f32')).frozenWeights).toBe('f32');
    expect(job(argv('--frozen-weights', 'stored')).frozenWeights).toBe('stored');
    expect(job(argv()).frozenWeights).toBeUndefined();
  });

  it('any other value is one clear line', () => {
    expect(() => jobFor(argv('--frozen-weights', 'bf16'))).toThrow(/^--frozen-weights must be stored or f32, got bf16$/);
  });
});
