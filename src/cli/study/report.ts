// The study's report and plots, generated from the saved cell JSON only (never from memory of the run),
// so every number in docs/study.md and the SVGs is one the command saved. Pure: (study, results) → text.
//
// Learning-rate selection: for each (task, method, rank, epochs) the lr of the shared grid with the best
// mean validation metric over seeds is chosen (GPT: lowest final validation loss; ViT: highest final
// validation accuracy, then lowest loss). Every method gets the same selection rule and the same grid.
import { CORRUPTIONS, describeCorruptions } from './corrupt';
import { ABLATIONS, type Cell, METHOD_LABEL, type MethodKey, type Study, type Task, type TaskGrid, gridConfigs, studyCells } from './grid';
import type { CellResult } from './result';
import { BASE_COLOR, type Series, barChart, lineChart, paletteColor } from './svg';

export interface RunInfo {
  command: string;
  startedAt: string;
  wallSeconds: number;
  cellsRun: number;
  cellsSkipped: number;
  failures: { id: string; error: string }[];
  node: string;
  machine?: { cpu: string; cores: number; memoryGiB: number; platform: string };
}

export interface Report {
  markdown: string;
  /** The headline tables, as printed on stdout (the same text as in the markdown). */
  console: string;
  plots: Map<string, string>;
}

const TASK_NAME: Record<Task, string> = { gpt: 'GPT-2 (demo gpt2-fortunes on fortunes-finetune.txt)', vit: 'ViT (demo vit-mnist on the rotated MNIST digits)' };
const CORRUPTION_LABEL: Record<string, string> = { clean: 'clean', gaussian_noise: 'noise', blur: 'blur', rotation: 'rotation', contrast: 'contrast' };

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '—');
const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '—');
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const sd = (xs: number[]) => {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
/** mean, with ± sample sd when there are several seeds. */
const agg = (xs: number[], fmt: (v: number) => string) => (xs.length > 1 ? `${fmt(mean(xs))} ± ${fmt(sd(xs)).replace('%', '')}` : fmt(mean(xs)));

export function cellLine(r: CellResult): string {
  const rank = r.effectiveRank ? `eff.rank ${r.effectiveRank.mean.toFixed(1)}` : 'eff.rank n/a';
  if (r.cell.task === 'vit') {
    const rob = r.robustness ? CORRUPTIONS.map((k) => `${CORRUPTION_LABEL[k]} ${pct(r.robustness?.[k]?.accuracy ?? NaN)}`).join(' ') : '';
    return `val acc ${pct(r.finalVal.accuracy ?? NaN)}  val loss ${f4(r.finalVal.loss)}${r.gap !== null ? `  gap ${f4(r.gap)}` : ''}  ${rank}  | ${rob}`;
  }
  return `val loss ${f4(r.finalVal.loss)} (best ${f4(r.bestVal.loss)})  train ${f4(trainLoss(r))}  gap ${f4(gapOf(r))}  ${rank}`;
}

/** Primary score of a run, higher = better. */
function score(task: Task, r: CellResult): number {
  return task === 'gpt' ? -r.finalVal.loss : (r.finalVal.accuracy ?? NaN) - 1e-6 * r.finalVal.loss;
}

interface Group {
  method: MethodKey;
  r: number;
  epochs: number;
  lr: number;
  runs: CellResult[];
  expected: number; // seeds in the grid
}

class Results {
  constructor(readonly study: Study, readonly results: ReadonlyMap<string, CellResult>) {}

  /** The runs (over seeds) of one (method, rank, epochs, lr). */
  group(task: Task, method: MethodKey, r: number, epochs: number, lr: number): Group {
    const cells = studyCells(this.study).filter((c) => c.task === task && c.method === method && c.r === r && c.epochs === epochs && c.lr === lr);
    const runs = cells.map((c) => this.results.get(c.id)).filter((x): x is CellResult => !!x);
    return { method, r, epochs, lr, runs, expected: cells.length };
  }

  /** The pretrained model's evaluation (the 'base' cell), as a one-run group. */
  base(task: Task): Group | null {
    const c = studyCells(this.study).find((x) => x.task === task && x.group === 'base');
    const r = c && this.results.get(c.id);
    return c && r ? { method: 'base', r: c.r, epochs: 0, lr: NaN, runs: [r], expected: 1 } : null;
  }

  /** The lr of the grid with the best mean score for (method, rank, epochs); null when nothing ran. */
  best(g: TaskGrid, method: MethodKey, r: number, epochs: number): Group | null {
    let best: Group | null = null, bestScore = -Infinity;
    for (const lr of g.lrs) {
      const grp = this.group(g.data.task, method, r, epochs, lr);
      if (grp.runs.length === 0) continue;
      const s = mean(grp.runs.map((x) => score(g.data.task, x)));
      if (s > bestScore) { best = grp; bestScore = s; }
    }
    return best;
  }
}

const vals = (g: Group, f: (r: CellResult) => number) => g.runs.map(f).filter(Number.isFinite);
const corruptedMean = (r: CellResult) => mean(CORRUPTIONS.map((k) => r.robustness?.[k]?.accuracy ?? NaN));
const rankOf = (r: CellResult) => r.effectiveRank?.mean ?? NaN;
const gapOf = (r: CellResult) => r.gap ?? NaN;
const trainLoss = (r: CellResult) => r.trainEval?.loss ?? NaN;

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const a = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${head.join(' | ')} |`,
    `|${a.map((x) => (x === 'l' ? ':---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const lrStr = (lr: number) => (Number.isFinite(lr) ? lr.toExponential().replace('+', '') : '—');
const seedsNote = (g: Group) => (g.runs.length < g.expected ? ` (${g.runs.length}/${g.expected} seeds)` : '');

function gptRow(g: Group, label: string): string[] {
  return [
    `${label}${seedsNote(g)}`, lrStr(g.lr),
    agg(vals(g, (r) => r.finalVal.loss), f4), agg(vals(g, (r) => r.bestVal.loss), f4), agg(vals(g, trainLoss), f4),
    agg(vals(g, gapOf), f4), agg(vals(g, rankOf), f1), String(g.runs[0]?.steps ?? '—'),
  ];
}
const GPT_HEAD = ['method', 'lr', 'final val loss', 'best val loss', 'train loss (eval)', 'gap (val − train)', 'eff. rank', 'steps'];

function vitRow(g: Group, label: string): string[] {
  return [
    `${label}${seedsNote(g)}`, lrStr(g.lr),
    agg(vals(g, (r) => r.finalVal.accuracy ?? NaN), pct), agg(vals(g, (r) => r.finalVal.loss), f4),
    agg(vals(g, corruptedMean), pct),
    ...CORRUPTIONS.map((k) => agg(vals(g, (r) => r.robustness?.[k]?.accuracy ?? NaN), pct)),
    agg(vals(g, gapOf), f4), agg(vals(g, rankOf), f1), String(g.runs[0]?.steps ?? '—'),
  ];
}
const VIT_HEAD = ['method', 'lr', 'val acc', 'val loss', 'corrupted (mean)', 'noise', 'blur', 'rotation', 'contrast', 'gap (val − train)', 'eff. rank', 'steps'];

const head = (t: Task) => (t === 'gpt' ? GPT_HEAD : VIT_HEAD);
const row = (t: Task, g: Group, label: string) => (t === 'gpt' ? gptRow(g, label) : vitRow(g, label));

function headlineTable(R: Results, g: TaskGrid): string {
  const { r, epochs } = g.headline;
  const rows = [R.base(g.data.task), ...g.methods.map((m) => R.best(g, m, r, epochs))].filter((x): x is Group => !!x).map((x) => row(g.data.task, x, METHOD_LABEL[x.method]));
  if (rows.length === 0) return '_no finished cells_';
  return table(head(g.data.task), rows);
}

function allCellsTable(R: Results, g: TaskGrid): string {
  const rows: string[][] = [];
  for (const { r, epochs } of gridConfigs(g)) {
    for (const m of g.methods) {
      for (const lr of g.lrs) {
        const grp = R.group(g.data.task, m, r, epochs, lr);
        if (grp.runs.length === 0) continue;
        const best = R.best(g, m, r, epochs);
        rows.push([`${epochs}`, `${r}`, ...row(g.data.task, grp, `${METHOD_LABEL[m]}${best?.lr === lr && g.lrs.length > 1 ? ' ★' : ''}`)]);
      }
    }
  }
  return rows.length ? table(['epochs', 'r', ...head(g.data.task)], rows, ['r', 'r', 'l', ...head(g.data.task).slice(1).map(() => 'r' as const)]) : '_no finished cells_';
}

function ablationTable(R: Results, g: TaskGrid): string {
  if (!g.ablation) return '';
  const { r, epochs } = g.ablation;
  const rows: string[][] = [];
  for (const lr of g.ablation.lrs) {
    for (const m of ['lorasc', ...ABLATIONS] as MethodKey[]) {
      const grp = R.group(g.data.task, m, r, epochs, lr);
      if (grp.runs.length) rows.push(row(g.data.task, grp, METHOD_LABEL[m]));
    }
  }
  return rows.length ? table(head(g.data.task), rows) : '_no finished cells_';
}

/** Plain statements of where LoRASC (plain, α=0.5, λ=0.05) does not beat LoRA or COLA. */
function notWins(R: Results, g: TaskGrid): { lines: string[]; summary: string } {
  const t = g.data.task;
  const lines: string[] = [];
  let wins = 0, losses = 0, ties = 0, total = 0;
  // A tie: equal at the printed precision (accuracy to 0.1 point, loss to 0.0001).
  for (const { r, epochs } of gridConfigs(g)) {
    {
      const sc = R.best(g, 'lorasc', r, epochs);
      if (!sc) continue;
      for (const other of ['lora', 'cola'] as MethodKey[]) {
        const o = R.best(g, other, r, epochs);
        if (!o) continue;
        const checks: { what: string; a: number; b: number; higherBetter: boolean; fmt: (v: number) => string }[] = t === 'gpt' ? [
          { what: 'final val loss', a: mean(vals(sc, (x) => x.finalVal.loss)), b: mean(vals(o, (x) => x.finalVal.loss)), higherBetter: false, fmt: f4 },
          { what: 'best val loss', a: mean(vals(sc, (x) => x.bestVal.loss)), b: mean(vals(o, (x) => x.bestVal.loss)), higherBetter: false, fmt: f4 },
          { what: 'train–val gap', a: mean(vals(sc, gapOf)), b: mean(vals(o, gapOf)), higherBetter: false, fmt: f4 },
        ] : [
          { what: 'val accuracy', a: mean(vals(sc, (x) => x.finalVal.accuracy ?? NaN)), b: mean(vals(o, (x) => x.finalVal.accuracy ?? NaN)), higherBetter: true, fmt: pct },
          { what: 'corrupted accuracy (mean of 4)', a: mean(vals(sc, corruptedMean)), b: mean(vals(o, corruptedMean)), higherBetter: true, fmt: pct },
          { what: 'val loss', a: mean(vals(sc, (x) => x.finalVal.loss)), b: mean(vals(o, (x) => x.finalVal.loss)), higherBetter: false, fmt: f4 },
        ];
        for (const ch of checks) {
          if (!Number.isFinite(ch.a) || !Number.isFinite(ch.b)) continue;
          total++;
          const d = ch.higherBetter ? ch.a - ch.b : ch.b - ch.a;
          if (ch.fmt(ch.a) === ch.fmt(ch.b)) { ties++; lines.push(`- r = ${r}, ${epochs} epochs, ${ch.what}: LoRASC ${ch.fmt(ch.a)} vs ${METHOD_LABEL[other]} ${ch.fmt(ch.b)} — **tie** (equal at the printed precision).`); }
          else if (d < 0) { losses++; lines.push(`- r = ${r}, ${epochs} epochs, ${ch.what}: LoRASC ${ch.fmt(ch.a)} vs ${METHOD_LABEL[other]} ${ch.fmt(ch.b)} — **LoRASC loses**.`); }
          else wins++;
        }
      }
    }
  }
  return { lines, summary: `${wins} wins, ${ties} ties, ${losses} losses for LoRASC in ${total} comparisons (each at the best lr of each method)` };
}

/** Which main method is best on each headline metric (at its best lr). */
function verdict(R: Results, g: TaskGrid): string {
  const { r, epochs } = g.headline;
  const groups = g.methods.map((m) => R.best(g, m, r, epochs)).filter((x): x is Group => !!x);
  if (groups.length < 2) return '';
  const metrics: { what: string; f: (x: CellResult) => number; higherBetter: boolean; fmt: (v: number) => string }[] = g.data.task === 'gpt' ? [
    { what: 'final val loss', f: (x) => x.finalVal.loss, higherBetter: false, fmt: f4 },
    { what: 'best val loss', f: (x) => x.bestVal.loss, higherBetter: false, fmt: f4 },
    { what: 'smallest train–val gap', f: gapOf, higherBetter: false, fmt: f4 },
  ] : [
    { what: 'val accuracy', f: (x) => x.finalVal.accuracy ?? NaN, higherBetter: true, fmt: pct },
    { what: 'corrupted accuracy (mean)', f: corruptedMean, higherBetter: true, fmt: pct },
    { what: 'val loss', f: (x) => x.finalVal.loss, higherBetter: false, fmt: f4 },
  ];
  const parts = metrics.map((m) => {
    const scored = groups.map((grp) => ({ grp, v: mean(vals(grp, m.f)) })).filter((x) => Number.isFinite(x.v));
    if (scored.length === 0) return null;
    const bestV = m.higherBetter ? Math.max(...scored.map((x) => x.v)) : Math.min(...scored.map((x) => x.v));
    const winners = scored.filter((x) => m.fmt(x.v) === m.fmt(bestV)).map((x) => METHOD_LABEL[x.grp.method]);
    return `${m.what}: ${winners.join(' = ')} (${m.fmt(bestV)})`;
  }).filter(Boolean);
  return `Best at the headline setting — ${parts.join('; ')}.`;
}

function curvePlot(R: Results, g: TaskGrid, metric: 'loss' | 'accuracy'): string {
  const { r } = g.headline;
  const epochs = Math.max(...g.epochs);
  const base = R.base(g.data.task)?.runs[0];
  const series = g.methods.map((m) => {
    const grp = R.best(g, m, r, epochs);
    const byEpoch = new Map<number, number[]>();
    // Every method starts from the pretrained model (B = 0): the base cell is everyone's epoch 0.
    for (const run of grp && base ? [base, ...grp.runs] : grp?.runs ?? []) {
      for (const p of run.curve) {
        const v = metric === 'loss' ? p.loss : (p.accuracy ?? NaN) * 100;
        const k = Number(p.epoch.toFixed(6));
        byEpoch.set(k, [...(byEpoch.get(k) ?? []), v]);
      }
    }
    return { name: `${METHOD_LABEL[m]}${grp ? ` (lr ${lrStr(grp.lr)})` : ''}`, points: [...byEpoch].map(([x, ys]) => ({ x, y: mean(ys) })) };
  });
  const seeds = g.seeds.length > 1 ? `, mean of ${g.seeds.length} seeds` : `, seed ${g.seeds[0]}`;
  return lineChart({
    title: `${g.data.task === 'gpt' ? 'GPT-2' : 'ViT'}: validation ${metric} per epoch (r = ${r}, ${epochs} epochs${seeds})`,
    xLabel: 'epoch', yLabel: metric === 'loss' ? 'validation loss (nats)' : 'validation accuracy (%)', series,
    xTicks: Array.from({ length: epochs + 1 }, (_, i) => i),
  });
}

function rankPlot(R: Results, g: TaskGrid): string {
  const epochs = g.headline.epochs;
  const series: Series[] = g.methods.map((m) => ({
    name: METHOD_LABEL[m],
    points: g.ranks.map((r) => {
      const grp = R.best(g, m, r, epochs);
      const y = grp ? mean(vals(grp, (x) => (g.data.task === 'gpt' ? x.finalVal.loss : (x.finalVal.accuracy ?? NaN) * 100))) : NaN;
      return { x: r, y };
    }),
  }));
  const base = R.base(g.data.task)?.runs[0];
  if (base) {
    const y = g.data.task === 'gpt' ? base.finalVal.loss : (base.finalVal.accuracy ?? NaN) * 100;
    series.push({ name: 'base model', points: g.ranks.map((r) => ({ x: r, y })), color: BASE_COLOR, dashed: true });
  }
  return lineChart({
    title: `${g.data.task === 'gpt' ? 'GPT-2: final validation loss' : 'ViT: final validation accuracy'} vs rank (${epochs} epochs, best lr each)`,
    xLabel: 'LoRA rank r (log scale)', yLabel: g.data.task === 'gpt' ? 'final validation loss (nats)' : 'validation accuracy (%)',
    series, logX: true, xTicks: g.ranks,
  });
}

function robustnessPlot(R: Results, g: TaskGrid): string {
  const { r, epochs } = g.headline;
  const keys = ['clean', ...CORRUPTIONS];
  return barChart({
    title: `ViT: accuracy on the held-out digits, clean and corrupted (r = ${r}, ${epochs} epochs)`,
    yLabel: 'accuracy (%)', groups: keys.map((k) => CORRUPTION_LABEL[k]), yMin: 0, yMax: 100,
    series: (['base', ...g.methods] as MethodKey[]).map((m) => {
      const grp = m === 'base' ? R.base(g.data.task) : R.best(g, m, r, epochs);
      return { name: m === 'base' ? 'base model' : METHOD_LABEL[m], color: m === 'base' ? BASE_COLOR : paletteColor(g.methods.indexOf(m)), values: keys.map((k) => (grp ? mean(vals(grp, (x) => (x.robustness?.[k]?.accuracy ?? NaN) * 100)) : NaN)) };
    }),
  });
}

function describeGrid(g: TaskGrid): string {
  const d = g.data;
  const sizes = d.task === 'gpt'
    ? `sequences of ${d.seqLen} tokens, batch ${d.batchSize}; the first ${d.trainExamples || 'all'} training and ${d.valExamples || 'all'} validation sequences of the split`
    : `batch ${d.batchSize}; the first ${d.trainExamples || 'all'} training and ${d.valExamples || 'all'} validation images of the split`;
  return [
    `- model \`public/${d.model}\`, data \`public/${d.data}\`; split with valFraction ${d.valFraction} and data seed ${d.dataSeed} (the same split for every cell); ${sizes}.`,
    `- LoRA targets ${d.targetModules.map((t) => `\`${t}\``).join(', ')}; lora_alpha = 2r (scale s = 2 at every rank); cosine schedule, 5 % warm-up, AdamW, weight decay 0, clip 1; LoRA dropout 0.05 (0 for DoRA, as the trainer requires).`,
    `- methods ${g.methods.map((m) => METHOD_LABEL[m]).join(', ')}; ranks {${g.ranks.join(', ')}}; epoch budgets {${g.epochs.join(', ')}}; learning rates {${g.lrs.map(lrStr).join(', ')}}; training seeds {${g.seeds.join(', ')}}.`,
    `- COLA and LoRASC: one cascade iteration (a fresh expert and optimizer state) per epoch; LoRASC α = 0.5, λ = 0.05 (uniform NoisyTune noise on the targeted weights), slow rule 'lookahead'; LoRASC+LoRA+ uses loraplusRatio 16.`,
    g.ablation ? `- ablations (LoRASC with one change each) at r = ${g.ablation.r}, ${g.ablation.epochs} epochs, lr {${g.ablation.lrs.map(lrStr).join(', ')}}, every seed: λ = 0; α = 1; slow = 'ema'; persistentNoise.` : '- no ablations for this task in this grid.',
    g.layout === 'cross' ? `- layout 'cross': every rank at ${g.headline.epochs} epochs, every epoch budget at r = ${g.headline.r}.` : '',
    `- headline: r = ${g.headline.r}, ${g.headline.epochs} epochs, each method at its best lr of the grid.`,
    d.trainEval ? '' : '- the final model is not evaluated on its training images in this grid (to save time), so there is no train–val gap column.',
  ].filter(Boolean).join('\n');
}

function quickSizes(study: Study, runs: CellResult[]): string {
  return study.tasks.map((g) => {
    const r = runs.find((x) => x.cell.task === g.data.task && x.cell.group !== 'base');
    const what = g.data.task === 'gpt' ? `sequences of ${g.data.seqLen} tokens` : 'images';
    const sizes = r ? `${r.trainExamples} training / ${r.valExamples} validation ${what}` : 'no finished cell';
    const acc = r && g.data.task === 'vit' ? ` (one image = ${(100 / r.valExamples).toFixed(1)} accuracy points)` : '';
    return `${g.data.task === 'gpt' ? 'GPT-2' : 'ViT'}: ${sizes}${acc}, ${g.seeds.length} seed(s), ${g.lrs.length} learning rate(s), ranks {${g.ranks.join(', ')}}, ${g.epochs.join('/')} epoch(s), ${r ? r.steps : '?'} optimizer steps per run`;
  }).join('; ');
}

export function buildReport(o: { study: Study; results: ReadonlyMap<string, CellResult>; run: RunInfo | null; outName: string }): Report {
  const { study } = o;
  const R = new Results(study, o.results);
  const all = studyCells(study);
  const done = all.filter((c: Cell) => o.results.has(c.id)).length;
  const plots = new Map<string, string>();
  const md: string[] = [];
  const con: string[] = [];
  const runs = [...o.results.values()].filter((r) => all.some((c) => c.id === r.cell.id));
  const computeMin = runs.reduce((a, r) => a + r.wallMs, 0) / 60000;
  const adapters = [...new Set(runs.map((r) => `${r.env.adapter.vendor || '?'} / ${r.env.adapter.architecture || '?'}${r.env.adapter.description ? ` / ${r.env.adapter.description}` : ''} (${r.env.backend})`))];
  const agents = [...new Set(runs.map((r) => r.env.userAgent))];

  md.push(`# LoRASC vs LoRA: a reproducible study (${study.name} grid)`, '');
  md.push('Generated by `src/cli/study/report.ts` from the saved results in ' +
    `\`docs/${o.outName}/cells/*.json\` (one file per run); nothing in this file is typed by hand. ` +
    'Regenerate it without training with `npm run study --' + (study.name === 'quick' ? ' --quick' : '') + ' --report-only`.', '');
  md.push('## How it was run', '');
  md.push('```sh', o.run?.command ?? `npm run study --${study.name === 'quick' ? ' --quick' : ''}`, '```', '');
  md.push(`- cells: ${done} of ${all.length} finished${o.run?.failures.length ? `; ${o.run.failures.length} failed in the last invocation (${o.run.failures.map((f) => f.id).join(', ')})` : ''}.`);
  if (o.run) md.push(`- wall time of the last invocation that ran cells: ${Math.floor(o.run.wallSeconds / 60)} min ${o.run.wallSeconds % 60} s (${o.run.cellsRun} cells run, ${o.run.cellsSkipped} reused from earlier invocations); sum of the cells' own times: ${computeMin.toFixed(1)} min.`);
  if (o.run?.machine) md.push(`- machine: ${o.run.machine.cpu}, ${o.run.machine.cores} cores, ${o.run.machine.memoryGiB} GiB, ${o.run.machine.platform}; Node ${o.run.node}.`);
  md.push(`- WebGPU adapter: ${adapters.join('; ') || 'unknown'}; browser: ${agents.join('; ') || 'unknown'} (headless, Vite dev server, the app's own engine).`);
  md.push(`- every cell runs \`train()\` (src/train/trainer.ts) on an engine from \`createEngine\`, with data from \`prepareText\` / \`prepareImages\`; validation is the trainer's own \`evaluate\` at the end of each epoch; after training the final model (single adapter on W0, or the merged cascade backbone) is evaluated again on its training examples (for the train–val gap, where the task's grid asks for it) and, for ViT, on the corrupted copies of the validation images. The untrained base model is evaluated the same way (a zero adapter), as the epoch-0 point of every curve.`, '');
  md.push('## Seeds', '');
  md.push('- a training seed sets the LoRA init of every expert, the dropout masks, the LoRASC noise (Philox, per iteration and module) and the epoch order; the data split has its own fixed seed, so all methods and seeds see the same train/validation images and sequences.');
  md.push(`- corrupted set: seed ${study.corruption.seed}; ${Object.entries(describeCorruptions(study.corruption)).map(([k, v]) => `${CORRUPTION_LABEL[k]}: ${v}`).join('; ')}. Built in the page from the preprocessed validation images (normalisation undone, corrupted in [0, 1], clipped, normalised again).`, '');

  for (const g of study.tasks) {
    const t = g.data.task;
    md.push(`## ${TASK_NAME[t]}`, '', describeGrid(g), '');
    md.push(`### Headline: r = ${g.headline.r}, ${g.headline.epochs} epochs, best lr per method`, '');
    const h = headlineTable(R, g);
    md.push(h, '');
    con.push(`${TASK_NAME[t]} — headline: r = ${g.headline.r}, ${g.headline.epochs} epochs, best lr per method`, h, '');
    const v = verdict(R, g);
    if (v) { md.push(v, ''); con.push(v, ''); }
    md.push(t === 'gpt'
      ? '_final val loss_: after the last epoch; _best_: the lowest of the per-epoch evaluations; _train loss (eval)_: the final model on its training sequences, no dropout; _gap_ = final val − train; _eff. rank_: singular values above 10⁻³·σ_max of each targeted layer\'s total update, mean over layers (n/a for DoRA cascades, which are not low-rank).'
      : '_val acc_ / _val loss_: the final model on the held-out images; _corrupted_: accuracy on the corrupted copies (mean of the four, then each); _gap_ = val loss − train loss (eval mode); _eff. rank_ as for GPT-2 (query/value updates).', '');
    const nw = notWins(R, g);
    md.push(`### Where LoRASC does NOT win (${t === 'gpt' ? 'GPT-2' : 'ViT'})`, '');
    md.push(`LoRASC (α = 0.5, λ = 0.05) against LoRA and against COLA at every rank and epoch budget of the grid: ${nw.summary}. Every comparison that is not a LoRASC win:`, '');
    md.push(...(nw.lines.length ? nw.lines : ['- none in this grid.']), '');
    con.push(`LoRASC vs LoRA/COLA (${t}): ${nw.summary}`, '');
    md.push(`### Plots`, '');
    const lossName = `${t}-val-loss.svg`, rankName = `${t}-rank.svg`;
    plots.set(lossName, curvePlot(R, g, 'loss'));
    plots.set(rankName, rankPlot(R, g));
    md.push(`![validation loss per epoch](${o.outName}/${lossName})`, '');
    if (t === 'vit') {
      plots.set('vit-val-accuracy.svg', curvePlot(R, g, 'accuracy'));
      plots.set('vit-robustness.svg', robustnessPlot(R, g));
      md.push(`![validation accuracy per epoch](${o.outName}/vit-val-accuracy.svg)`, '');
    }
    md.push(`![final metric vs rank](${o.outName}/${rankName})`, '');
    if (t === 'vit') md.push(`![robustness per corruption](${o.outName}/vit-robustness.svg)`, '');
    if (g.ablation) {
      md.push(`### Ablations (r = ${g.ablation.r}, ${g.ablation.epochs} epochs)`, '', ablationTable(R, g), '');
      con.push(`Ablations (${t}, r = ${g.ablation.r}, ${g.ablation.epochs} epochs)`, ablationTable(R, g), '');
    }
    md.push(`### Every cell (★ = the lr selected for that method, rank and budget)`, '', allCellsTable(R, g), '');
  }

  md.push('## Caveats (read before quoting a number)', '');
  md.push(...[
    '- The learning rate of each method is selected on the same validation split whose numbers are reported, for every method alike: the numbers are optimistic by the same rule for all, not held-out test numbers.',
    study.name === 'quick' ? `- This is the \`--quick\` grid: ${quickSizes(study, runs)}. It shows that the pipeline runs end to end and how the methods behave at this tiny scale; it is not evidence that one method is better. The full grid (\`npm run study\`, several seeds, an lr grid, four ranks, several epoch budgets) is meant for a real GPU.` : '',
    '- Differences smaller than the spread over seeds (± values; none with one seed) are not evidence either way.',
    '- The demo models are tiny (GPT-2: 3 layers, 96 wide; ViT: 4 layers, 64 wide) and pretrained here; the LoRASC paper\'s claims are about large pretrained models.',
    '- LoRASC (α = 0.5) merges only half of each expert, so at equal lr it moves the weights less than COLA; the shared lr grid is the only compensation. In runs this short, results are limited by how far the weights move: whatever takes bigger steps (LoRA+\'s 16× lr, α = 1) tends to lead on loss, for better or worse.',
    '- LoRA+ (docs/method.md#lora-plus) multiplies the lr of every lora_B and of every 1-D trainable parameter by the ratio: on ViT that includes the classifier bias, which trains in every method.',
    '- On small subsets the train and validation examples differ in difficulty by themselves: compare each train–val gap with the base model\'s (the same subsets, no training).',
    '- DoRA cascades run without LoRA dropout (the trainer refuses DoRA with dropout), all other methods with 0.05.',
  ].filter(Boolean), '');
  return { markdown: `${md.join('\n')}\n`, console: con.join('\n'), plots };
}
