// The mutation harness behind `npm run mutants` (test/mutants.ts) and its CI subset
// (test/node/mutants.test.ts): breaks one thing at a time in a WGSL kernel (a changed constant, a
// flipped operator), runs that kernel's GPU tests against the mutated copy, and says whether a test
// caught it.
//
// Verdicts: "killed" only when vitest ran and a test failed on an assertion; "survived" when every test
// passed; "error" for anything else — a timeout, a crash, a suite that did not load, no report — which
// says nothing about the tests. A baseline run of the same tests without mutants comes first; if it does
// not pass, nothing is mutated.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');

export interface Mutant { shader: string; line: number; what: string; code: string }
export type Verdict = 'killed' | 'survived' | 'error';
export interface Outcome { verdict: Verdict; detail: string }

/** Lines of code (not comments, not declarations of overrides/bindings/structs) inside functions. */
function codeLines(src: string): number[] {
  const lines = src.split('\n');
  const out: number[] = [];
  let depth = 0;
  lines.forEach((l, i) => {
    const code = l.replace(/\/\/.*$/, '');
    if (depth > 0 && code.trim() && !/^\s*(override|struct|@group|var<)/.test(code)) out.push(i);
    depth += (code.match(/\{/g) ?? []).length - (code.match(/\}/g) ?? []).length;
  });
  return out;
}

const replaceLine = (lines: string[], i: number, text: string) => lines.map((l, j) => (j === i ? text : l)).join('\n');

/** Up to two mutants per shader: a changed numeric literal and a flipped + / − in arithmetic. */
export function mutantsOf(shader: string, src: string): Mutant[] {
  const lines = src.split('\n');
  const body = codeLines(src);
  const found: Mutant[] = [];
  // Formula constants (`const X: f32 = …`) first: a clamp bound or loop limit can be an equivalent mutant.
  const consts = lines.map((_, i) => i).filter((i) => /^const \w+\s*:\s*f32\s*=/.test(lines[i]));
  const literal = [...consts, ...body].find((i) => /[^\w.](\d+\.\d+|[2-9]\d*u?)\b/.test(lines[i].replace(/\/\/.*$/, '')));
  if (literal !== undefined) {
    const l = lines[literal];
    const m = l.match(/([^\w.])(\d+\.\d+|[2-9]\d*)(u?)\b/)!;
    // Floats scale by 1.25 (a zero becomes 1); integers step by one.
    const num = m[2].includes('.') ? String(Number(m[2]) === 0 ? 1 : Number(m[2]) * 1.25) : String(Number(m[2]) + 1);
    const next = l.replace(m[0], `${m[1]}${num.includes('.') || !m[2].includes('.') ? num : `${num}.0`}${m[3]}`);
    found.push({ shader, line: literal + 1, what: `${m[2]}${m[3]} → ${num}${m[3]}`, code: replaceLine(lines, literal, next) });
  }
  const arith = body.filter((i) => / [+-] /.test(lines[i].replace(/\/\/.*$/, '')) && !/for \(|if \(|return;/.test(lines[i]));
  const pick = arith[Math.floor(arith.length / 2)];
  if (pick !== undefined) {
    const l = lines[pick];
    const next = l.includes(' + ') ? l.replace(' + ', ' - ') : l.replace(' - ', ' + ');
    found.push({ shader, line: pick + 1, what: l.includes(' + ') ? "'+' → '-'" : "'-' → '+'", code: replaceLine(lines, pick, next) });
  }
  return found;
}

/** Every shader, entry points and the function libraries under shaders/lib/ (named `lib/<file>`). */
export function allShaders(): string[] {
  const wgslIn = (dir: string, prefix: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.wgsl'))
    .map((f) => `${prefix}${basename(f, '.wgsl')}`);
  return [...wgslIn('shaders', ''), ...wgslIn('shaders/lib', 'lib/')];
}

export const shaderPath = (shader: string) => join(ROOT, 'shaders', `${shader}.wgsl`);

/** Test files that import a kernels/ module that imports this shader. */
export function testsFor(shader: string): string[] {
  const kernels = readdirSync(join(ROOT, 'src/kernels')).filter((f) =>
    readFileSync(join(ROOT, 'src/kernels', f), 'utf8').includes(`shaders/${shader}.wgsl?raw`));
  const mods = kernels.map((f) => basename(f, '.ts'));
  return readdirSync(join(ROOT, 'test/kernels')).filter((f) => {
    const t = readFileSync(join(ROOT, 'test/kernels', f), 'utf8');
    return mods.some((m) => t.includes(`src/kernels/${m}'`));
  }).map((f) => `test/kernels/${f}`);
}

/** The parts of vitest's JSON report read here. */
export interface JsonReport {
  numFailedTests: number;
  numPassedTests: number;
  numTotalTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string; title: string; failureMessages: string[] }[] }[];
}

/**
 * What one vitest run says about a mutant. Only failed assertions count as a kill: a run killed by the
 * time limit or a signal, a missing report, a suite that failed to load, an error outside tests, or
 * tests that failed only by timing out are all "error".
 */
export function classify(run: { code: number | null; signal: string | null; timedOut: boolean; report: JsonReport | null }): Outcome {
  if (run.timedOut) return { verdict: 'error', detail: 'the test run exceeded its time limit' };
  if (run.signal) return { verdict: 'error', detail: `the test run was killed by ${run.signal}` };
  if (!run.report) return { verdict: 'error', detail: `no test report (exit code ${run.code})` };
  const r = run.report;
  const suiteFailures = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed'));
  if (suiteFailures.length) return { verdict: 'error', detail: `a test file failed outside its tests: ${suiteFailures[0].name}: ${(suiteFailures[0].message ?? '').split('\n')[0]}` };
  const failed = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed'));
  const genuine = failed.filter((a) => !a.failureMessages.every((m) => /Test timed out|Hook timed out/.test(m)));
  if (genuine.length) return { verdict: 'killed', detail: `${genuine.length} test(s) failed, first: ${genuine[0].title}` };
  if (failed.length) return { verdict: 'error', detail: `${failed.length} test(s) only timed out` };
  if (run.code !== 0) return { verdict: 'error', detail: `every test passed but vitest exited with ${run.code} (an error outside tests)` };
  if (r.numTotalTests === 0) return { verdict: 'error', detail: 'no test ran' };
  return { verdict: 'survived', detail: `${r.numPassedTests} test(s) passed` };
}

/** The harness's temporary folder and running child, so an interrupt can clean up (see `interrupt`). */
const live = { dir: undefined as string | undefined, child: undefined as ChildProcess | undefined };

/** Stops a running test process and removes the temporary copies; safe to call twice. */
export function interrupt(): void {
  if (live.child?.pid && live.child.exitCode === null) {
    try { process.kill(-live.child.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  if (live.dir) rmSync(live.dir, { recursive: true, force: true });
  live.dir = undefined;
}

/** Runs `tests` in the gpu project with `mutated` (shader → source) served in place of the shader files. */
async function runTests(tests: string[], mutated: Map<string, string>, timeoutMs: number): Promise<Outcome> {
  const dir = live.dir as string;
  const map: Record<string, string> = {};
  for (const [shader, code] of mutated) {
    const copy = join(dir, `${shader.replace('/', '_')}.wgsl`);
    writeFileSync(copy, code);
    map[shaderPath(shader)] = copy;
  }
  const mapFile = join(dir, 'mutants.json');
  writeFileSync(mapFile, JSON.stringify(map));
  const reportFile = join(dir, 'report.json');
  rmSync(reportFile, { force: true });
  const args = ['vitest', 'run', '--config', 'test/mutants/vitest.config.ts', '--project', 'gpu', '--reporter=json', `--outputFile=${reportFile}`, ...tests];
  const child = spawn('npx', args, { cwd: ROOT, env: { ...process.env, LORASC_MUTANTS: mapFile }, stdio: 'ignore', detached: true });
  live.child = child;
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; try { process.kill(-(child.pid as number), 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
    child.on('error', () => resolve({ code: null, signal: 'spawn error' }));
  });
  clearTimeout(timer);
  live.child = undefined;
  let report: JsonReport | null = null;
  try { report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport; } catch { report = null; }
  return classify({ code, signal, timedOut, report });
}

export interface MutationRun {
  baseline: Outcome;
  results: { mutant: Mutant; tests: string[]; outcome: Outcome }[];
}

/**
 * Baseline, then each mutant of each shader (at most `perShader`), each against that shader's tests.
 * Returns early (no mutants) when the baseline does not pass. `onResult` reports as it goes.
 */
export async function runMutants(o: {
  shaders: string[]; perShader?: number; timeoutMs?: number; onResult?: (r: MutationRun['results'][number]) => void; onBaseline?: (b: Outcome) => void;
}): Promise<MutationRun> {
  const timeoutMs = o.timeoutMs ?? 300_000;
  const plan = o.shaders.map((shader) => ({ shader, tests: testsFor(shader) })).filter((p) => p.tests.length > 0);
  live.dir = mkdtempSync(join(tmpdir(), 'lorasc-mutants-'));
  try {
    const all = [...new Set(plan.flatMap((p) => p.tests))];
    const baseline = await runTests(all, new Map(), timeoutMs);
    o.onBaseline?.(baseline);
    const results: MutationRun['results'] = [];
    // The baseline must pass: a failing test would "kill" every mutant.
    if (baseline.verdict !== 'survived') return { baseline, results };
    for (const { shader, tests } of plan) {
      const original = readFileSync(shaderPath(shader), 'utf8');
      for (const mutant of mutantsOf(shader, original).slice(0, o.perShader ?? Infinity)) {
        const r = { mutant, tests, outcome: await runTests(tests, new Map([[shader, mutant.code]]), timeoutMs) };
        results.push(r);
        o.onResult?.(r);
      }
    }
    return { baseline, results };
  } finally {
    interrupt();
  }
}
