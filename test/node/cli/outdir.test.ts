// Issue 14: `lorasc eval --logits-out ~/l.safetensors` made the user's folder (their home) the bridge's
// output folder, which the page may list and delete under. Now the job's output folder is a private
// temporary one (mkdtemp, 0700), and Node moves the file onto the user's path at the end. runJob is
// replaced here by a stand-in that records the folder it was given and writes as the page would.
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import type { HostOptions } from '../../../src/cli/host';

const seen: HostOptions[] = [];
vi.mock('../../../src/cli/host', async (orig) => ({
  ...(await orig<typeof import('../../../src/cli/host')>()),
  runJob: async (job: { logitsOut?: string }, o: HostOptions) => {
    seen.push(o);
    writeFileSync(join(o.outDir!, job.logitsOut!), 'LOGITS');
    return { loss: 1, tokens: 5, predicted: 4, logitsFile: job.logitsOut };
  },
}));
const { main } = await import('../../../src/cli/main');

const home = realpathSync(mkdtempSync(join(tmpdir(), 'lorasc-home-')));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('eval --logits-out writes through a private 0700 folder, never the folder of the target', async () => {
  const ids = join(home, 'ids.json');
  writeFileSync(ids, '[1, 2, 3]');
  const target = join(home, 'l.safetensors');
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const code = await main(['eval', '--model', resolve(import.meta.dirname, '../../fixtures/gpt2_tiny'), '--tokens', ids, '--logits-out', target]);
  log.mockRestore();
  expect(code).toBe(0);
  expect(seen).toHaveLength(1);
  const out = seen[0].outDir!;
  expect(out).not.toBe(home);
  expect(out.startsWith(join(tmpdir(), 'lorasc-out-')) || out.startsWith(join(realpathSync(tmpdir()), 'lorasc-out-'))).toBe(true);
  expect(seen[0].inputs).not.toContain(home);
  expect(readFileSync(target, 'utf8')).toBe('LOGITS');
  expect(existsSync(out)).toBe(false); // removed after the move
});

it('the private folder is created with mode 0700', async () => {
  const { privateOutDir } = await import('../../../src/cli/outputs');
  const t = privateOutDir();
  try {
    expect(statSync(t.dir).mode & 0o777).toBe(0o700);
  } finally {
    t.dispose();
  }
  expect(existsSync(t.dir)).toBe(false);
});
