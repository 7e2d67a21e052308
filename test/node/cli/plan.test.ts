// `lorasc train --plan`: the run's GPU memory plan (src/train/memoryPlan.ts) printed from the model alone
// (no data, no output folder) by the real CLI in a child process; --recompute changes only the activations.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobFor } from '../../../src/cli/main';
import { runLorasc } from '../../helpers/lorasc';

const ROOT = resolve(import.meta.dirname, '../../..');
const GPT2 = join(ROOT, 'test/fixtures/gpt2_tiny');
const base = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-plan-test-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('lorasc train --plan', () => {
  it('parses: --plan needs only --model; --recompute sets the option', () => {
    const { job, inputs } = jobFor(['train', '--model', GPT2, '--plan', '--recompute', '--batch', '4']);
    expect(job).toMatchObject({ kind: 'train', planOnly: true, config: { recompute: true, batchSize: 4 } });
    expect(inputs).toEqual([GPT2]);
  });

  it('prints the plan by category and exits 0; recomputation lowers only the activations', async () => {
    const args = ['train', '--model', GPT2, '--plan', '--batch', '4', '--seq-len', '16', '--rank', '4', '--json'];
    const off = await runLorasc(base, args, 180_000);
    expect(off.code, off.stderr).toBe(0);
    const on = await runLorasc(base, [...args, '--recompute'], 180_000);
    expect(on.code, on.stderr).toBe(0);
    const a = JSON.parse(off.stdout), b = JSON.parse(on.stdout);
    expect(a.fits).toBe(true);
    expect(a.planLines[0]).toBe('memory plan (B=4, T=16, r=4, LoRA, 2 adapted modules, recompute off):');
    expect(b.planLines[0]).toContain('recompute on');
    expect(b.bytes.activations).toBeLessThan(a.bytes.activations);
    for (const k of ['weights', 'trainables', 'gradients', 'optimizer', 'workspace']) expect(b.bytes[k], k).toBe(a.bytes[k]);
    expect(a.total - b.total).toBe(a.bytes.activations - b.bytes.activations);
  });
});
