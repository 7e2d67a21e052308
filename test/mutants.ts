// `npm run mutants [-- <shader name filter>…]`: mutation testing of the WGSL kernels (see
// test/mutants/harness.ts). Prints one line per mutant and a summary. Exit codes: 0 every mutant killed,
// 1 a mutant survived, 2 the baseline failed (nothing mutated), 3 a run ended in an error (timeout,
// crash) and none survived. Mutants are served from temporary copies; the shader files are never
// written. Ctrl-C (or SIGTERM) stops the running tests and removes the copies.
import { allShaders, interrupt, runMutants } from './mutants/harness';

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    interrupt();
    console.error(`\nmutants: stopped by ${sig}; no shader file was changed`);
    process.exit(130);
  });
}
process.on('uncaughtException', (e) => {
  interrupt();
  console.error(`mutants: harness error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(3);
});

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const shaders = allShaders().filter((s) => only.length === 0 || only.some((o) => s.includes(o)));

const run = await runMutants({
  shaders,
  onBaseline: (b) => console.log(`baseline  ${b.verdict === 'survived' ? 'passed' : `FAILED (${b.verdict}: ${b.detail})`}`),
  onResult: ({ mutant: m, tests, outcome: o }) =>
    console.log(`${o.verdict === 'killed' ? 'killed  ' : o.verdict === 'survived' ? 'SURVIVED' : 'ERROR   '} ${m.shader}.wgsl:${m.line} ${m.what}  (${tests.join(' ')})${o.verdict === 'killed' ? '' : ` — ${o.detail}`}`),
});
if (run.baseline.verdict !== 'survived') {
  console.log('\nmutants: the unmutated tests do not pass; nothing was mutated');
  process.exit(2);
}
const count = (v: string) => run.results.filter((r) => r.outcome.verdict === v).length;
console.log(`\nmutants: ${count('killed')} killed, ${count('survived')} survived, ${count('error')} errors`);
process.exit(count('survived') ? 1 : count('error') ? 3 : 0);
