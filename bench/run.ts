// `npm run bench [-- --quick] [-- --json] [-- --out FILE] [-- --reps N] [-- --only matmul|train|llama|packed] [-- --case NAME]…
// [-- --profile] [-- --lab] [-- --device]`: serves bench/index.html with Vite, opens it in headless Chromium (WebGPU; SwiftShader
// where there is no GPU), runs the engine beside tfjs-webgpu on the same adapter in one page, and prints matmul
// GFLOP/s and one LoRA training step of a GPT-2 block stack in tokens/s, with the engine/tfjs ratio of each case.
// --case takes a training-case name as printed (e.g. "C128 L2 B4 T64"); --profile adds the engine's per-kernel times.
// Each row names the engine's matmul variant(s) on this device. --device: the preset for a machine with a real GPU
// (bench/device.ts: peak, GFLOP/s of every matmul variant, a GPT-2 124M-layout training step; docs/kernels.md).
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../src/cli/chromium';
import type { BenchReport } from './cases';
import { gpuCpuReader } from './cpu';
import type { DeviceReport } from './device';
import { llamaTable } from './llama';
import { type MemplanRow, memplanTable, runMemplanInPage } from './memplan';
import { packedTable } from './packed';
import { type LoadRow, loadTable, measureLoad, realSizeWanted } from './realsize';

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const option = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);

const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const span = (xs: number[]) =>
  `min ${Math.min(...xs).toFixed(2)}×, geomean ${geomean(xs).toFixed(2)}×, max ${Math.max(...xs).toFixed(2)}× over ${xs.length}`;

function matmulTable(r: BenchReport): string[] {
  if (!r.results.length) return [];
  const rows = r.results.map((x) =>
    [x.name.padEnd(22), `${x.M}×${x.N}×${x.K} ${x.layout}`.padEnd(20),
      x.engineGflops.toFixed(2).padStart(8), x.tfjsGflops.toFixed(2).padStart(8),
      `${x.ratio.toFixed(2)}×`.padStart(8), (x.cpuRatio ? `${x.cpuRatio.toFixed(2)}×` : '—').padStart(8),
      x.maxAbsDiff.toExponential(1).padStart(9), ` ${x.variant}`].join(' '));
  return [
    `${'matmul case'.padEnd(22)} ${'M×N×K layout'.padEnd(20)} ${'engine'.padStart(8)} ${'tfjs'.padStart(8)} ${'ratio'.padStart(8)} ${'CPU'.padStart(8)} ${'max|Δ|'.padStart(9)}  variant`,
    `${''.padEnd(22)} ${''.padEnd(20)} ${'GFLOP/s'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'(wall)'.padStart(8)} ${'ratio'.padStart(8)}`,
    ...rows,
    'ratio: tfjs ms / engine ms per product, wall clock (medians). CPU ratio: the same with the CPU ms of the GPU',
    'process, where SwiftShader runs both engines\' shaders (bench/cpu.ts): the kernels\' work, little moved by other load.',
    '',
  ];
}

function trainTable(r: BenchReport): string[] {
  if (!r.train.length) return [];
  const rows = r.train.map((x) =>
    [x.name.padEnd(20), String(x.tokens).padStart(6), String(x.trainable).padStart(7),
      x.engineTokensPerS.toFixed(0).padStart(8), x.tfjsTokensPerS.toFixed(0).padStart(8), `${x.ratio.toFixed(2)}×`.padStart(7),
      x.engineLoss0.toFixed(5).padStart(9), x.lossDiff.toExponential(1).padStart(8),
      `${x.gradMaxAbsDiff.toExponential(1)}/${x.gradMaxAbs.toExponential(1)}`.padStart(15),
      `${x.engineDispatches}/${x.tfjsKernels}`.padStart(9), ` ${(x.variants ?? []).join(',')}`].join(' '));
  const lines = [
    `LoRA training step (forward, loss, backward to A/B, AdamW) of a synthetic GPT-2: HS 64, n_inner 4C, V ${r.train[0].V},`,
    `tied head; LoRA r ${r.train[0].R}, alpha 16 on c_attn, c_proj (attn + mlp), c_fc; tfjs: tf.train.adam = AdamW with decay 0`,
    `${'case'.padEnd(20)} ${'tokens'.padStart(6)} ${'LoRA'.padStart(7)} ${'engine'.padStart(8)} ${'tfjs'.padStart(8)} ${'ratio'.padStart(7)} ` +
      `${'loss0'.padStart(9)} ${'|Δloss|'.padStart(8)} ${'max|Δg|/max|g|'.padStart(15)} ${'dispatch'.padStart(9)}  matmul variants`,
    `${''.padEnd(20)} ${'/step'.padStart(6)} ${'params'.padStart(7)} ${'tok/s'.padStart(8)} ${'tok/s'.padStart(8)} ${''.padStart(7)} ` +
      `${''.padStart(9)} ${''.padStart(8)} ${''.padStart(15)} ${'eng/tfjs'.padStart(9)}`,
    ...rows,
  ];
  for (const x of r.train) {
    if (!x.profile) continue;
    const total = x.profile.kernels.reduce((s, k) => s + k.ms, 0);
    lines.push('', `engine profile ${x.name}: ${x.profile.dispatches} dispatches, each alone (empty submit+wait ` +
      `${x.profile.emptySubmitMs.toFixed(2)} ms subtracted); sum ${total.toFixed(1)} ms vs ${x.engineMs.toFixed(1)} ms per step`);
    for (const k of x.profile.kernels.slice(0, 14)) {
      lines.push(`  ${k.name.padEnd(44)} ${k.ms.toFixed(1).padStart(8)} ms ${(100 * k.ms / total).toFixed(1).padStart(5)} %  ×${k.dispatches}`);
    }
  }
  lines.push('');
  return lines;
}

function table(r: BenchReport): string {
  const mm = r.results.map((x) => x.ratio), tr = r.train.map((x) => x.ratio);
  const parts = [
    mm.length ? `matmul ${mm.map((x) => x.toFixed(2)).join(' ')} (${span(mm)})` : '',
    tr.length ? `train step ${tr.map((x) => x.toFixed(2)).join(' ')} (${span(tr)})` : '',
    r.llama?.length ? `Llama train step ${r.llama.map((x) => x.ratio.toFixed(2)).join(' ')}` : '',
  ].filter(Boolean);
  return [
    `adapter: ${r.adapter}`,
    `browser: ${r.userAgent}`,
    '',
    ...matmulTable(r),
    ...trainTable(r),
    ...llamaTable(r.llama),
    ...packedTable(r.packed),
    `summary engine/tfjs-webgpu speed (>1: engine faster): ${parts.join('; ')}`,
  ].join('\n');
}

function deviceTable(r: DeviceReport): string {
  const lines = [
    `adapter: ${r.adapter}`,
    `kernel features: ${r.features.join(', ') || 'none'}${r.subgroupSizes ? ` (subgroup sizes ${r.subgroupSizes})` : ''}`,
    `measured f32 fma peak: ${r.peakGflops.toFixed(1)} GFLOP/s`,
    '',
    `${'matmul case'.padEnd(22)} ${'M×N×K layout'.padEnd(22)} ${'variant'.padEnd(9)} ${'GFLOP/s'.padStart(9)} ${'of peak'.padStart(8)}`,
  ];
  for (const m of r.matmul) {
    for (const v of m.variants) {
      lines.push(`${m.name.padEnd(22)} ${`${m.M}×${m.N}×${m.K} ${m.layout}`.padEnd(22)} ${v.variant.padEnd(9)} ` +
        `${v.gflops.toFixed(1).padStart(9)} ${`${(100 * v.fractionOfPeak).toFixed(1)} %`.padStart(8)}` +
        `${v.variant === m.chosen ? '  ← selector' : ''}${v.precision === 'f16' ? '  (f16 products, never used for training)' : ''}`);
    }
  }
  lines.push('', ...r.skipped.map((s) => `not run here: ${s.variant}: ${s.reason}`), '');
  for (const t of r.train) {
    lines.push(`training step, ${t.name}: ${t.tokensPerS.toFixed(0)} tokens/s (${t.msPerStep.toFixed(0)} ms for ${t.tokens} tokens; matmul variants ${t.variants.join(', ')})`);
  }
  lines.push(...r.notMeasured.map((n) => `not measured: ${n}`));
  return lines.join('\n');
}

// Everything the run opened, closed in reverse on every path: success, error, SIGINT/SIGTERM/SIGHUP. Each close
// is time-boxed, since a page stuck in a long dispatch can keep browser.close() waiting; the process then exits
// explicitly (Playwright kills its browser child on exit), so no handle left behind can keep the bench alive.
const closers: { what: string; close: () => Promise<unknown> }[] = [];
const CLOSE_TIMEOUT_MS = 15_000;

async function teardown(): Promise<void> {
  for (const { what, close } of closers.splice(0).reverse()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((done) => { timer = setTimeout(() => done('timed out'), CLOSE_TIMEOUT_MS); });
    const outcome = await Promise.race([close().then(() => 'ok', (e) => `failed: ${e instanceof Error ? e.message : String(e)}`), timeout]);
    clearTimeout(timer);
    if (outcome !== 'ok') console.error(`bench: closing ${what} ${outcome}`);
  }
}

async function finish(code: number): Promise<never> {
  await teardown();
  process.exit(code);
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, closing the browser and the Vite server`);
    void finish(code);
  });
}

/** The page's report plus the rows measured from Node: the memory plan (in the page) and the real-size load. */
type FullReport = BenchReport & { memplan?: MemplanRow[]; realSizeLoad?: LoadRow };
/** The report so far: printed with --json even when a later part fails, so the finished rows are not lost. */
let partial: FullReport | undefined;

async function main(): Promise<void> {
  const server = await createServer({
    // No HMR and no watcher: others editing src/ while a run is in flight must not reload the page under it.
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
    logLevel: 'error',
    // Its own dependency cache, scanned from the bench page only, with tfjs pre-bundled up front: a dependency
    // found only when the page imports it, or vitest/the studio re-optimising a shared cache, reloads the page
    // mid-run (and the bench re-optimising theirs would break their runs; see docs/cli-parity.md).
    cacheDir: process.env.BENCH_VITE_CACHE ?? 'node_modules/.vite-bench',
    optimizeDeps: {
      entries: ['bench/index.html'],
      include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-core/dist/register_all_gradients', '@tensorflow/tfjs-backend-webgpu'],
    },
  });
  closers.push({ what: 'the Vite server', close: () => server.close() });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  // Signals are ours (above): Playwright's own SIGTERM handler closes the browser but leaves the process running.
  const browser = await chromium.launch({
    executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
  });
  closers.push({ what: 'the browser', close: () => browser.close() });
  const page = await browser.newPage();
  closers.push({ what: 'the bench page', close: () => page.close() });
  const cpu = gpuCpuReader();
  if (cpu) await page.exposeFunction('benchGpuCpuMs', cpu);
  page.on('console', (m) => { if (m.text().startsWith('[bench]') && !flag('--json')) console.error(m.text()); });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${url}bench/index.html`);
  await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, { timeout: 120_000 });
  const reps = Number(option('--reps') ?? 3);
  if (flag('--device')) {
    const report = (await page.evaluate(
      (opts) => (window as unknown as { runDevice: (o: unknown) => Promise<unknown> }).runDevice(opts),
      { quick: flag('--quick'), reps },
    )) as DeviceReport;
    if (option('--out')) writeFileSync(option('--out')!, JSON.stringify(report, null, 2));
    console.log(flag('--json') ? JSON.stringify(report, null, 2) : deviceTable(report));
    return;
  }
  if (flag('--lab')) {
    const lab = await page.evaluate(
      (opts) => (window as unknown as { runLab: (o: unknown) => Promise<unknown> }).runLab(opts),
      { reps, cases: args.filter((_, i) => args[i - 1] === '--case'), versions: args.filter((_, i) => args[i - 1] === '--lab-version') },
    );
    console.log(JSON.stringify(lab, null, 2));
    return;
  }
  const report: FullReport = partial = (await page.evaluate(
    (opts) => (window as unknown as { runBench: (o: unknown) => Promise<unknown> }).runBench(opts),
    {
      quick: flag('--quick'), reps, only: option('--only'), profile: flag('--profile'),
      trainCases: args.filter((_, i) => args[i - 1] === '--case'),
    },
  )) as BenchReport;
  // Written after each part, so a later part's failure keeps the earlier ones.
  const save = () => { if (option('--out')) writeFileSync(option('--out')!, JSON.stringify(report, null, 2)); };
  save();
  if (!flag('--json')) console.log(table(report));
  if (option('--only') === undefined) {
    report.memplan = await runMemplanInPage(page, reps);
    save();
    if (!flag('--json')) console.log(memplanTable(report.memplan, reps));
  }
  await teardown(); // the real-size load drives its own Chromium through the CLI
  if (realSizeWanted(args)) {
    report.realSizeLoad = await measureLoad();
    save();
    if (!flag('--json')) console.log(loadTable(report.realSizeLoad).join('\n'));
  }
  if (flag('--json')) console.log(JSON.stringify(report, null, 2));
}

main().then(() => finish(0), (e) => {
  if (flag('--json') && partial) console.log(JSON.stringify(partial, null, 2));
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  return finish(1);
});
