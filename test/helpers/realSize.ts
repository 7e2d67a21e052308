// The real-size checkpoints of issue 13's "Done when" (test/fixtures/gen_real_size.py): a GPT-2 124M layout
// (F32, ~548 MB) and a Qwen3 layout in BF16 with the real 151,936-token vocabulary (~374 MB), with the real
// tokenizer files of their families (npm devDependencies, test/node/tokenizer/realFiles.ts). Too big to commit:
// built into the system temp folder once per test run and shared by the test files that use it. The run is
// the vitest process the test files' workers were forked from (their parent pid); the run removes its folder
// at its end (test/helpers/realSizeTeardown.ts), and a later run the folders of runs whose process is gone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gpt2TokenizerJson, realTokenizerFiles } from '../node/tokenizer/realFiles';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'test/fixtures/gen_real_size.py');
const PYTHON = '/usr/bin/python3';
const PREFIX = 'lorasc-real-size-';

export interface RealSizeCheckpoints {
  /** GPT2LMHeadModel, GPT-2 124M's shapes, F32, tokenizer.json of GPT-2's real 50,257-token BPE. */
  gpt2: string;
  /** Qwen3ForCausalLM, Qwen3-0.6B's widths, 2 layers, BF16, the real Qwen3 tokenizer (151,936-row vocabulary). */
  qwen: string;
  /** model.safetensors sizes in bytes, as the generator reported them. */
  bytes: { gpt2: number; qwen: number };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The folder of the checkpoints of the vitest run whose main process is `run`. */
export function realSizeFolder(run: number): string {
  return join(tmpdir(), `${PREFIX}${run}`);
}

/** Why `python` cannot run the checks (one line naming what to install), or undefined when it can import `modules`. */
export function pythonProblem(python = PYTHON, modules = ['torch', 'numpy']): string | undefined {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return undefined;
  const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : (r.stderr.trim().split('\n').at(-1) ?? `status ${r.status}`);
  return `the real-size tests need ${python} with ${modules.join(' and ')} (${why}): apt-get install python3-torch python3-numpy (Debian; .ci/run installs them)`;
}

/** Runs gen_real_size.py with args; returns its JSON answer, or throws with its stderr. */
export function realSizePython(args: string[], timeoutMs = 600_000): Record<string, unknown> {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`gen_real_size.py ${args[0]} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
}

function buildInto(dir: string): void {
  const built = realSizePython(['build', dir]) as Record<string, { bytes: number }>;
  writeFileSync(join(dir, 'gpt2_124m/tokenizer.json'), JSON.stringify(gpt2TokenizerJson()));
  const qwen = realTokenizerFiles('qwen3');
  copyFileSync(qwen.tokenizerJsonPath, join(dir, 'qwen3_bf16/tokenizer.json'));
  writeFileSync(join(dir, 'qwen3_bf16/tokenizer_config.json'), qwen.tokenizerConfig);
  writeFileSync(join(dir, 'built.json'), JSON.stringify({ gpt2: built.gpt2_124m.bytes, qwen: built.qwen3_bf16.bytes }));
}

/** The checkpoints of this test run: built on first use (~1 min), then shared. */
export async function realSizeCheckpoints(): Promise<RealSizeCheckpoints> {
  // A missing interpreter or module fails each real-size file with the one line that says what to install, never skips it.
  const problem = pythonProblem();
  if (problem) throw new Error(problem);
  const run = process.ppid;
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && pid !== run && Number.isInteger(pid) && !alive(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const dir = realSizeFolder(run);
  const done = join(dir, 'built.json');
  let mine = false;
  try {
    mkdirSync(dir); // atomic: the first test file of the run builds, the others wait for built.json
    mine = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (mine) {
    try {
      buildInto(dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }
  for (let waited = 0; !existsSync(done); waited += 1000) {
    if (waited > 600_000 || !existsSync(dir)) throw new Error(`the real-size checkpoints in ${dir} were not built (another test file's build failed or hung)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const bytes = JSON.parse(readFileSync(done, 'utf8')) as { gpt2: number; qwen: number };
  return { gpt2: join(dir, 'gpt2_124m'), qwen: join(dir, 'qwen3_bf16'), bytes };
}
