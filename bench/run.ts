// `npm run bench [-- --quick] [-- --json] [-- --out FILE] [-- --lab]`: serves bench/index.html with Vite, opens it in
// headless Chromium (WebGPU; SwiftShader where there is no GPU), runs the engine's matmul beside
// tfjs-webgpu's on the same adapter in one page, and prints GFLOP/s and the ratio for each case.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from '../src/cli/chromium';
import type { BenchReport } from './cases';

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const option = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);

function table(r: BenchReport): string {
  const rows = r.results.map((x) =>
    [x.name.padEnd(22), `${x.M}×${x.N}×${x.K} ${x.layout}`.padEnd(20),
      x.engineGflops.toFixed(2).padStart(8), x.tfjsGflops.toFixed(2).padStart(8),
      `${x.ratio.toFixed(2)}×`.padStart(8), x.maxAbsDiff.toExponential(1).padStart(9)].join(' '));
  const ratios = r.results.map((x) => x.ratio);
  const geo = Math.exp(ratios.reduce((s, x) => s + Math.log(x), 0) / ratios.length);
  return [
    `adapter: ${r.adapter}`,
    `browser: ${r.userAgent}`,
    '',
    `${'case'.padEnd(22)} ${'M×N×K layout'.padEnd(20)} ${'engine'.padStart(8)} ${'tfjs'.padStart(8)} ${'ratio'.padStart(8)} ${'max|Δ|'.padStart(9)}`,
    `${''.padEnd(22)} ${''.padEnd(20)} ${'GFLOP/s'.padStart(8)} ${'GFLOP/s'.padStart(8)}`,
    ...rows,
    '',
    `summary: engine/tfjs-webgpu matmul speed ratio min ${Math.min(...ratios).toFixed(2)}×, ` +
      `geomean ${geo.toFixed(2)}×, max ${Math.max(...ratios).toFixed(2)}× over ${ratios.length} cases`,
  ].join('\n');
}

async function main() {
  const server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'error' });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.text().startsWith('[bench]') && !flag('--json')) console.error(m.text()); });
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${url}bench/index.html`);
    await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, { timeout: 120_000 });
    if (flag('--lab')) {
      const lab = await page.evaluate(
        (opts) => (window as unknown as { runLab: (o: unknown) => Promise<unknown> }).runLab(opts),
        { reps: Number(option('--reps') ?? 3) },
      );
      console.log(JSON.stringify(lab, null, 2));
      return;
    }
    const report = (await page.evaluate(
      (opts) => (window as unknown as { runBench: (o: unknown) => Promise<unknown> }).runBench(opts),
      { quick: flag('--quick'), reps: Number(option('--reps') ?? 3) },
    )) as BenchReport;
    if (option('--out')) writeFileSync(option('--out')!, JSON.stringify(report, null, 2));
    console.log(flag('--json') ? JSON.stringify(report, null, 2) : table(report));
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
