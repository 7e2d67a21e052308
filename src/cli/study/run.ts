// `npm run study [-- --quick] [--out docs/study] [--resume] [--report-only] [--only REGEX]`: the LoRASC vs
// LoRA study. Node builds the grid (grid.ts), starts Vite and headless Chromium once, and runs each cell
// in the study page (page.ts) with the app's own engine and trainer; each finished cell is saved as
// <out>/cells/<id>.json the moment it finishes. With --resume a rerun skips every cell whose saved
// JSON holds the same cell and data settings. Then the report (<out>.md) and the plots (<out>/*.svg) are
// generated from the saved JSON only (report.ts), so every number in them is a number the run saved.
import { cpus, totalmem } from 'node:os';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { type OptionSpec, UsageError, parseArgs, usage } from '../args';
import { type EnginePage, ROOT, openEnginePage } from '../enginePage';
import { type Cell, type CorruptionSpec, type TaskData, studyCells, studyGrid, taskGrid } from './grid';
import type { StudyEvent } from './page';
import { buildReport, cellLine } from './report';
import type { CellResult, Environment } from './result';


const SPEC: Record<string, OptionSpec> = {
  quick: { kind: 'flag', help: 'the small grid (ViT-heavy; under 20 min on a 2-core CPU-only machine with SwiftShader)' },
  out: { kind: 'string', help: 'results folder (default docs/study); the report is written next to it as <out>.md' },
  resume: { kind: 'flag', help: 'skip the cells already saved under <out>/cells with the same settings' },
  'report-only': { kind: 'flag', help: 'run nothing; regenerate the report and plots from the saved cells' },
  only: { kind: 'string', help: 'run only the cells whose id matches this regular expression' },
};

type RunReply = { ok: true; result: CellResult } | { ok: false; error: string };

const cellFile = (out: string, id: string) => join(out, 'cells', `${id}.json`);

/** The saved result of a cell, if it is one for exactly this cell and data (else undefined). */
export function readCell(out: string, cell: Cell, data: TaskData, corruption: CorruptionSpec): CellResult | undefined {
  const f = cellFile(out, cell.id);
  if (!existsSync(f)) return undefined;
  try {
    const r = JSON.parse(readFileSync(f, 'utf8')) as CellResult;
    if (r.format !== 1 || JSON.stringify(r.cell) !== JSON.stringify(cell) || JSON.stringify(r.data) !== JSON.stringify(data)) return undefined;
    if (r.corruption && JSON.stringify(r.corruption) !== JSON.stringify(corruption)) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

const fmtTime = (ms: number) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** The study page (page.ts) in headless Chromium, reopened after a crash. */
class StudyPage {
  private engine?: EnginePage;

  get outside(): string[] {
    return this.engine?.outside ?? [];
  }

  async open(onEvent: (e: StudyEvent) => void): Promise<Page> {
    this.engine = await openEnginePage({
      path: 'src/cli/study/page.html', query: process.env.STUDY_STEP_EVERY ? `?steps=${process.env.STUDY_STEP_EVERY}` : '',
      readyFlag: '__studyReady', cacheDir: 'node_modules/.vite-lorasc-study', what: 'the study page',
      expose: { __studyEvent: onEvent },
    });
    return this.engine.page;
  }

  async close(): Promise<void> {
    await this.engine?.close();
    this.engine = undefined;
  }
}

function printer(): (e: StudyEvent) => void {
  return (e) => {
    if (e.type === 'status') process.stderr.write(`  ${e.message}\n`);
    else if (e.type === 'eval') process.stderr.write(`  ${fmtTime(e.ms)} epoch ${Number(e.epoch.toFixed(3))}: val loss ${e.loss.toFixed(4)}${e.accuracy !== undefined ? `  acc ${(100 * e.accuracy).toFixed(1)}%` : ''}\n`);
    else if (e.type === 'step') process.stderr.write(`  ${fmtTime(e.ms)} step ${e.step}/${e.total}  loss ${e.loss.toFixed(4)}\n`);
  };
}

async function main(argv: string[]): Promise<number> {
  const t0 = Date.now();
  const args = argv.filter((a) => a !== '--');
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage('study', SPEC).replace('lorasc study', 'npm run study --'));
    return 0;
  }
  const p = parseArgs(args, SPEC);
  const quick = !!p.quick;
  const out = resolve(ROOT, (p.out as string | undefined) ?? 'docs/study');
  const study = studyGrid(quick);
  let cells = studyCells(study);
  if (p.only !== undefined) {
    let re: RegExp;
    try { re = new RegExp(p.only as string); } catch (e) { throw new UsageError(`--only: ${(e as Error).message}`); }
    cells = cells.filter((c) => re.test(c.id));
  }
  const dataOf = (c: Cell) => (taskGrid(study, c.task) as NonNullable<ReturnType<typeof taskGrid>>).data;
  const command = `npm run study --${quick ? ' --quick' : ''}${p.out !== undefined ? ` --out ${p.out}` : ''}${p.resume ? ' --resume' : ''}${p.only !== undefined ? ` --only '${p.only}'` : ''}`;
  mkdirSync(join(out, 'cells'), { recursive: true });

  const pending = p['report-only'] ? [] : cells.filter((c) => !(p.resume && readCell(out, c, dataOf(c), study.corruption)));
  console.log(`study ${study.name}: ${cells.length} cells, ${cells.length - pending.length} already saved${p['report-only'] ? ' (report only)' : ''}, ${pending.length} to run → ${relative(process.cwd(), out) || '.'}`);
  const failures: { id: string; error: string }[] = [];
  let env: Environment | undefined;
  if (pending.length > 0) {
    const sp = new StudyPage();
    try {
      let page = await sp.open(printer());
      env = await page.evaluate(() => (window as unknown as { __studyEnv: () => Promise<Environment> }).__studyEnv());
      console.log(`adapter: ${env.adapter.vendor} ${env.adapter.architecture} ${env.adapter.description} (${env.backend}); ${env.userAgent}`);
      for (const [i, cell] of pending.entries()) {
        const c0 = Date.now();
        console.log(`[${i + 1}/${pending.length}] ${cell.id}  (elapsed ${fmtTime(Date.now() - t0)})`);
        let reply: RunReply;
        try {
          reply = await page.evaluate(
            ([c, d, k]) => (window as unknown as { __studyRun: (c: Cell, d: TaskData, k: CorruptionSpec) => Promise<RunReply> }).__studyRun(c, d, k),
            [cell, dataOf(cell), study.corruption] as [Cell, TaskData, CorruptionSpec],
          );
        } catch (e) {
          // The page itself died (device lost, renderer crash): note it and start a fresh one.
          reply = { ok: false, error: `page failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
          await sp.close();
          page = await sp.open(printer());
        }
        if (sp.outside.length) throw new Error(`the study page tried to reach ${sp.outside[0]}; stopped`);
        if (!reply.ok) {
          failures.push({ id: cell.id, error: reply.error });
          console.log(`  FAILED: ${reply.error}`);
          continue;
        }
        const f = cellFile(out, cell.id);
        writeFileSync(`${f}.tmp`, `${JSON.stringify(reply.result, null, 1)}\n`);
        renameSync(`${f}.tmp`, f);
        console.log(`  ${cellLine(reply.result)}  (${fmtTime(Date.now() - c0)})`);
      }
    } finally {
      await sp.close();
    }
  }

  const results = new Map<string, CellResult>();
  for (const c of studyCells(study)) {
    const r = readCell(out, c, dataOf(c), study.corruption);
    if (r) results.set(c.id, r);
  }
  const wallMs = Date.now() - t0;
  const run = { command, startedAt: new Date(t0).toISOString(), wallSeconds: Math.round(wallMs / 1000), cellsRun: pending.length - failures.length, cellsSkipped: cells.length - pending.length, failures, env: env ?? null, node: process.version,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` } };
  // The record of the last invocation that ran cells (a rerun with nothing left to run keeps it).
  if (pending.length > 0) writeFileSync(join(out, `run-${study.name}.json`), `${JSON.stringify(run, null, 1)}\n`);
  const lastRun = existsSync(join(out, `run-${study.name}.json`)) ? JSON.parse(readFileSync(join(out, `run-${study.name}.json`), 'utf8')) : null;
  const report = buildReport({ study, results, run: lastRun, outName: basename(out) });
  for (const [name, svg] of report.plots) writeFileSync(join(out, name), svg);
  const md = join(dirname(out), `${basename(out)}.md`);
  writeFileSync(md, report.markdown);
  console.log('');
  console.log(report.console);
  console.log(`\nreport: ${relative(process.cwd(), md)}; plots: ${[...report.plots.keys()].map((n) => relative(process.cwd(), join(out, n))).join(', ')}`);
  console.log(`wall time ${fmtTime(Date.now() - t0)} (${cells.length - pending.length} cells reused, ${pending.length - failures.length} run, ${failures.length} failed)`);
  return failures.length ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  if (process.env.LORASC_DEBUG) console.error(e);
  console.error(`study: ${e instanceof UsageError ? '' : 'error: '}${e instanceof Error ? e.message : String(e)}`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
