// The mutation harness (test/mutants/harness.ts) in CI: how a run is judged, a fast subset of real
// mutants (the two of gelu_forward.wgsl: a baseline run and two mutated runs of test/kernels/gelu.test.ts),
// and an interrupted run leaving every shader as it was.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, type JsonReport, ROOT, runMutants, shaderPath } from '../mutants/harness';

const report = (tests: { status: string; msg?: string }[], fileStatus = tests.some((t) => t.status === 'failed') ? 'failed' : 'passed'): JsonReport => ({
  numFailedTests: tests.filter((t) => t.status === 'failed').length,
  numPassedTests: tests.filter((t) => t.status === 'passed').length,
  numTotalTests: tests.length,
  testResults: [{ name: 'test/kernels/x.test.ts', status: fileStatus, message: '', assertionResults: tests.map((t, i) => ({ status: t.status, title: `t${i}`, failureMessages: t.msg ? [t.msg] : [] })) }],
});
const ok = { code: 0, signal: null, timedOut: false };

describe('classify: only a failed assertion is a kill', () => {
  it('a failed assertion kills; all passing survives', () => {
    expect(classify({ ...ok, code: 1, report: report([{ status: 'passed' }, { status: 'failed', msg: 'AssertionError: expected 1 to be 2' }]) }).verdict).toBe('killed');
    expect(classify({ ...ok, report: report([{ status: 'passed' }]) }).verdict).toBe('survived');
  });
  it('a timeout, a signal, a missing report, a suite that did not load, tests that only timed out: error', () => {
    expect(classify({ ...ok, code: null, timedOut: true, report: null }).verdict).toBe('error');
    expect(classify({ ...ok, code: null, signal: 'SIGKILL', report: null }).verdict).toBe('error');
    expect(classify({ ...ok, code: 1, report: null }).verdict).toBe('error');
    expect(classify({ ...ok, code: 1, report: report([], 'failed') }).verdict).toBe('error');
    expect(classify({ ...ok, code: 1, report: report([{ status: 'failed', msg: 'Error: Test timed out in 120000ms.' }]) }).verdict).toBe('error');
    expect(classify({ ...ok, code: 1, report: report([{ status: 'passed' }]) }).verdict).toBe('error');
    expect(classify({ ...ok, report: report([]) }).verdict).toBe('error');
  });
});

const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const tempDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('lorasc-mutants-'));

describe('mutation run (gelu_forward.wgsl)', () => {
  it('baseline passes, then both mutants are killed; the shader file is never written', { timeout: 600_000 }, async () => {
    const before = hash(shaderPath('gelu_forward'));
    const dirsBefore = tempDirs();
    const run = await runMutants({ shaders: ['gelu_forward'] });
    expect(run.baseline, run.baseline.detail).toMatchObject({ verdict: 'survived' });
    expect(run.results.map((r) => `${r.mutant.what}: ${r.outcome.verdict} (${r.outcome.detail})`)).toHaveLength(2);
    for (const r of run.results) expect(r.outcome.verdict, `${r.mutant.shader}:${r.mutant.line} ${r.mutant.what}: ${r.outcome.detail}`).toBe('killed');
    expect(hash(shaderPath('gelu_forward'))).toBe(before);
    expect(tempDirs()).toEqual(dirsBefore);
  });

  it('SIGTERM mid-run stops the tests, removes the copies and leaves the shaders as they were', { timeout: 300_000 }, async () => {
    const before = hash(shaderPath('gelu_forward'));
    const dirsBefore = new Set(tempDirs());
    const child = spawn(join(ROOT, 'node_modules/.bin/vite-node'), ['test/mutants.ts', '--', 'gelu_forward'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    // Wait for the harness's temporary folder: the baseline's vitest is then starting.
    for (let t = 0; ![...tempDirs()].some((d) => !dirsBefore.has(d)); t += 100) {
      if (t > 120_000) throw new Error(`the harness never started: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 2000));
    child.kill('SIGTERM');
    expect(await exited, out).toBe(130);
    expect(out).toMatch(/stopped by SIGTERM; no shader file was changed/);
    expect(tempDirs().filter((d) => !dirsBefore.has(d))).toEqual([]);
    expect(hash(shaderPath('gelu_forward'))).toBe(before);
  });
});
