// `npm run mutants`: breaks one thing at a time in every WGSL kernel (a changed constant, a flipped
// operator) and runs that kernel's GPU tests; every mutant must make a test fail ("killed").
// Prints one line per mutant and a summary; exits non-zero if any mutant survives. Not part of
// `npm test` (it runs the kernel tests ~70 times); a tool to show the tests can fail.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

interface Mutant { shader: string; line: number; what: string; code: string }

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

/** Up to two mutants per shader: a changed numeric literal and a flipped + / − in arithmetic. */
function mutantsOf(shader: string, src: string): Mutant[] {
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

const replaceLine = (lines: string[], i: number, text: string) => lines.map((l, j) => (j === i ? text : l)).join('\n');

/** Test files that import a kernels/ module that imports this shader. */
function testsFor(shader: string): string[] {
  const kernels = readdirSync(join(root, 'src/kernels')).filter((f) =>
    readFileSync(join(root, 'src/kernels', f), 'utf8').includes(`shaders/${shader}.wgsl?raw`));
  const mods = kernels.map((f) => basename(f, '.ts'));
  return readdirSync(join(root, 'test/kernels')).filter((f) => {
    const t = readFileSync(join(root, 'test/kernels', f), 'utf8');
    return mods.some((m) => t.includes(`src/kernels/${m}'`));
  }).map((f) => `test/kernels/${f}`);
}

function run(): void {
  // Entry-point shaders and the function libraries under shaders/lib/ (named `lib/<file>`).
  const wgslIn = (dir: string, prefix: string) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.wgsl'))
    .map((f) => `${prefix}${basename(f, '.wgsl')}`);
  const shaders = [...wgslIn('shaders', ''), ...wgslIn('shaders/lib', 'lib/')]
    .filter((s) => only.length === 0 || only.some((o) => s.includes(o)));
  let killed = 0;
  const survivors: string[] = [];
  for (const shader of shaders) {
    const path = join(root, 'shaders', `${shader}.wgsl`);
    const original = readFileSync(path, 'utf8');
    const tests = testsFor(shader);
    for (const m of mutantsOf(shader, original)) {
      writeFileSync(path, m.code);
      try {
        const r = spawnSync('npx', ['vitest', 'run', '--project', 'gpu', ...tests], { cwd: root, encoding: 'utf8', timeout: 300_000 });
        const dead = r.status !== 0;
        if (dead) killed++; else survivors.push(`${shader}.wgsl:${m.line} ${m.what}`);
        console.log(`${dead ? 'killed  ' : 'SURVIVED'} ${shader}.wgsl:${m.line} ${m.what}  (${tests.join(' ')})`);
      } finally {
        writeFileSync(path, original);
      }
    }
  }
  console.log(`\nmutants: ${killed} killed, ${survivors.length} survived`);
  if (survivors.length) process.exit(1);
}

run();
