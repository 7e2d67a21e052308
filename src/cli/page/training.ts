// The CLI's train and export jobs, run in the engine page with the studio's trainer and exporters.
// Output layout under --out: merged/ (HF folder), adapter/ (PEFT, where the method has one),
// checkpoints/ (the last two, for --resume; src/train/checkpoint.ts), trainer_state.json (HF
// log_history), summary.json.
import { getDevice } from '../../gpu/device';
import { loadModelDir } from '../../io/hfModel';
import { adapterCheckModules, assertMergeCheck, buildMergedModelFiles, checkMergedRows, doraMerge, type MergeCheck, mergeCheckUlps, mergeDelta, type RoundingFigure, RoundingTally, writeMergedModelStreamed } from '../../io/export';
import { tensorFloat32 } from '../../io/safetensors';
import { type TrainingConfig, resolveConfig } from '../../train/config';
import type { LoadedModel } from '../../io/hfModel';
import { checkFit, formatPlan, planOptions, planTraining } from '../../train/memoryPlan';
import { adapterEngineOptions, adapterValues, loadWithAdapter } from '../../train/engine';
import { loadChatSetup } from '../../io/chat';
import { loadFolderTokenizer } from '../../io/tokenizer';
import { buildExports, fetchPassthrough, mergedParity, readCompanions } from '../../train/export';
import { linearModules } from '../../train/modules';
import { type TrainState, loadLatestCheckpoint } from '../../train/checkpoint';
import { type Run, type RunInput, defaultPreset, prepareRun, trainRun } from '../../train/run';
import type { TrainEvent } from '../../train/trainer';
import type { CliEvent, DirRef, ExportJob, FileRef, TrainJob } from '../jobs';
import { storedSlices } from './storedSlices';
import { dirSource, outSink, outStore, pathIn, readFile, writeAll, writeOut } from './bridge';
import { loadModel } from './load';
import { decodeImage } from '../../io/imageDecode';

type Emit = (e: CliEvent) => void;

const isDir = (d: DirRef | FileRef): d is DirRef => 'files' in d;

/** The run's memory plan for the CLI (src/train/memoryPlan.ts): its lines, and whether it fits this device. */
function memoryPlanOf(loaded: LoadedModel, job: TrainJob, limits: GPUSupportedLimits): { planLines: string[]; fits: boolean; why?: string; bytes: Record<string, number>; total: number } {
  const c = resolveConfig(job.config as Partial<TrainingConfig>, defaultPreset(loaded.kind));
  // --frozen-weights f32 widens every frozen weight; otherwise the engine's default (src/train/engine.ts).
  const frozen = job.frozenWeights === 'f32' ? 'f32' : undefined;
  const plan = planTraining(loaded, c, limits, frozen);
  const fit = checkFit(loaded, planOptions(loaded, c, frozen), limits);
  return { planLines: formatPlan(plan, limits), fits: fit.fits, ...(fit.why ? { why: fit.why } : {}), bytes: plan.bytes, total: plan.total };
}

export async function runTrain(job: TrainJob, emit: Emit) {
  const source = dirSource(job.model);
  const loaded = await loadModel(job.model, emit);
  if (job.planOnly) return memoryPlanOf(loaded, job, (await getDevice({ label: 'lorasc-cli-plan' })).limits);
  let input: RunInput;
  if (loaded.kind !== 'vit') {
    if (isDir(job.data)) throw new Error(`${job.data.root} is a folder; a ${loaded.kind === 'gpt2' ? 'GPT-2' : 'language model'} trains on a .txt, .jsonl or .csv file`);
    // The folder's tokenizer (GPT-2: the hand-written byte-level BPE; a Llama family: tokenizer.json with tokenizer_config.json's rules).
    const tokenizer = await loadFolderTokenizer(source);
    if (!tokenizer) throw new Error(`${job.model.root} has no tokenizer.json (or vocab.json + merges.txt)`);
    // a chat .jsonl is rendered with the model's template, or --chat-template's
    const template = job.chatTemplate ? new TextDecoder().decode(await readFile(job.chatTemplate.path)) : undefined;
    const chat = await loadChatSetup(source, tokenizer, template !== undefined ? { template, templateSource: job.chatTemplate!.path.split('/').pop() } : {});
    input = {
      kind: 'text', bytes: await readFile(job.data.path), name: job.data.path.split('/').pop() as string, tokenizer, chatTemplate: chat.template,
      ...(job.textFormat ? { format: job.textFormat } : {}),
    };
  } else {
    if (!isDir(job.data)) throw new Error(`${job.data.path} is a file; a ViT trains on a folder with one subfolder per class`);
    const dir = job.data;
    const rootName = dir.root.split('/').pop() as string;
    input = {
      kind: 'images', paths: dir.files.map((f) => `${rootName}/${f}`),
      decode: async (rel) => decodeImage(await readFile(pathIn(dir, rel.split('/').slice(1).join('/'))), rel),
    };
  }
  const ctx = await getDevice({ label: 'lorasc-cli-train' });
  // The header: the memory plan; a run that cannot fit stops here, saying what to change.
  const planned = memoryPlanOf(loaded, job, ctx.limits);
  for (const l of planned.planLines) emit({ type: 'status', message: l });
  if (!planned.fits) throw new Error(planned.why);
  const run = await prepareRun(ctx, { loaded, source, frozenWeights: job.frozenWeights }, input, { partial: job.config as Partial<TrainingConfig> });
  const { config } = run;
  emit({ type: 'status', message: `${run.loaded.kind} model: ${job.model.root}; method ${config.method}` });
  emit({ type: 'status', message: dataLine(run) });
  if (run.kind === 'lm' && run.preview) {
    // every row not trained on, by line (a long list is cut, with the count of the rest)
    const p = run.preview;
    const lines = p.rejected.map((r) => `${r.file}, line ${r.line}: ${r.reason}`);
    if (p.chat?.truncatedLines.length) lines.push(`${p.file}: conversations cut to ${run.config.seqLen + 1} tokens (later turns not trained): ${p.chat.truncatedLines.length} rows, lines ${p.chat.truncatedLines.slice(0, 20).join(', ')}${p.chat.truncatedLines.length > 20 ? ', …' : ''}`);
    for (const l of lines.slice(0, 50)) emit({ type: 'warning', message: l });
    if (lines.length > 50) emit({ type: 'warning', message: `… and ${lines.length - 50} more rejected rows` });
  }
  let total = 0;
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'start') total = e.totalSteps;
    if (e.type === 'start') emit({ type: 'status', message: `${e.totalSteps} steps (${e.stepsPerEpoch}/epoch), ${e.iterations} iteration(s)` });
    if (e.type === 'step') emit({ type: 'progress', done: e.step, total, loss: e.loss, tokensPerSec: e.targetsPerSec, lr: e.lr });
    if (e.type === 'eval') emit({ type: 'log', entry: { eval_loss: e.valLoss, step: e.step, epoch: e.epoch, ...(e.valAccuracy !== undefined ? { eval_accuracy: e.valAccuracy } : {}) } });
    if (e.type === 'iteration') {
      const ranks = e.report.layers.map((l) => l.spectrum?.effectiveRank ?? NaN);
      emit({ type: 'status', message: `iteration ${e.report.iteration}: effective rank ${Math.min(...ranks)}–${Math.max(...ranks)} over ${ranks.length} layers` });
    }
    if (e.type === 'bad-step' || e.type === 'rollback') emit({ type: 'warning', message: e.type === 'rollback' ? e.message : `step ${e.step}: ${e.reason}; update skipped` });
    if (e.type === 'checkpoint-error') emit({ type: 'warning', message: e.message });
    if (e.type === 'early-stop') emit({ type: 'status', message: `early stop at step ${e.step}: ${e.patience} evaluations without improvement (best at step ${e.bestStep})` });
  };
  const checkpoints = outStore('checkpoints');
  let resumeFrom: TrainState | undefined;
  if (job.resume) {
    const found = await loadLatestCheckpoint(checkpoints);
    for (const s of found?.skipped ?? []) emit({ type: 'warning', message: `ignored an incomplete checkpoint: ${s.reason}` });
    if (!found) throw Object.assign(new Error('--resume: no complete checkpoint under the output folder\'s checkpoints/'), { code: 'RUN_MISSING' });
    resumeFrom = found.state;
    emit({ type: 'status', message: `resuming from the checkpoint of step ${found.state.step} of ${found.state.totalSteps} (${found.folder})` });
  }
  const result = await trainRun(run, { onEvent, checkpoints, resumeFrom }).finally(() => run.engine.destroy());

  const lap = lapTimer(emit);
  emit({ type: 'status', message: `exporting: merging in F32${job.exportDtype ? ` (written as ${job.exportDtype})` : ''} and checking parity` });
  const companions = await readCompanions(source);
  const bundle = await buildExports({
    ctx, loaded: run.loaded, companions, result, config,
    baseName: job.model.root, classNames: run.kind === 'image' ? run.classNames ?? undefined : undefined, sample: run.sample,
  }, { streamMerged: true });
  lap('exporting: merge and parity');
  const mergeCheck = result.adapter ? await checkMerge(run.loaded, adapterCheckModules(run.loaded, result.adapter), bundle.mergedWeights, result.iterations.length) : null;
  lap('exporting: merge check');
  // The merged folder tensor by tensor, straight to disk (in memory only for a ViT's new head: bundle.merged).
  const tally = job.exportDtype && bundle.merged.size === 0 ? new RoundingTally(job.exportDtype) : undefined;
  if (job.exportDtype && !tally) emit({ type: 'warning', message: `--export-dtype ${job.exportDtype}: a ViT with a new head is written in F32` });
  const written = bundle.merged.size > 0
    ? await writeAll('merged', bundle.merged)
    : (await writeMergedModelStreamed({
      model: run.loaded, merged: (name) => bundle.mergedWeights.get(name), companions, maxShardBytes: job.maxShardBytes, dtype: tally?.dtype, tally,
      storedSlice: await storedSlices(job.model, run.loaded),
    }, outSink('merged'))).map((n) => `merged/${n}`);
  lap('exporting: merged/ written');
  if (job.adapterOut && bundle.adapter) written.push(...await writeAll('adapter', bundle.adapter));
  lap('exporting: adapter/ written');
  const trainerState = { log_history: result.history, global_step: result.steps, max_steps: result.steps, num_train_epochs: config.epochs, best_metric: result.bestVal?.loss ?? null, ...(result.kept ? { best_global_step: result.kept.step } : {}) };
  await writeOut('trainer_state.json', JSON.stringify(trainerState, null, 2));
  const evals = result.history.filter((h) => 'eval_loss' in h);
  const lastReport = result.iterations[result.iterations.length - 1];
  const summary = {
    method: config.method, steps: result.steps, stopped: result.stopped, ...(resumeFrom ? { resumed_from: resumeFrom.step } : {}),
    final_train_loss: result.finalTrainLoss,
    first_eval_loss: evals[0]?.eval_loss ?? null, final_eval_loss: result.finalVal?.loss ?? null, best_eval_loss: result.bestVal?.loss ?? null,
    ...(result.finalVal?.accuracy !== undefined ? { final_eval_accuracy: result.finalVal.accuracy } : {}),
    effective_rank: lastReport ? Object.fromEntries(lastReport.layers.map((l) => [l.path, l.spectrum?.effectiveRank ?? null])) : {},
    iterations: result.iterations.length,
    // Keep-best: the exported weights are those of this evaluation; early stop: the step the run ended at.
    weights_from_step: result.kept?.step ?? result.steps, early_stopped_at: result.earlyStoppedAt,
    adapter: bundle.adapter ? `adapter/ (rank ${result.adapter?.r})` : bundle.adapterNote,
    parity: bundle.parity ? { max_abs: bundle.parity.maxAbs, max_rel: bundle.parity.maxRel, count: bundle.parity.count } : null,
    merge_check: mergeCheckSummary(mergeCheck),
    export_dtype: tally?.dtype ?? 'F32',
    ...(tally ? { rounding: roundingSummary(tally.figure()) } : {}),
    files: [...written, 'checkpoints/', 'trainer_state.json', 'summary.json'],
  };
  await writeOut('summary.json', JSON.stringify(summary, null, 2));
  return summary;
}

/** Emits each export phase's wall time as a status line, so a slow export says where its time went. */
function lapTimer(emit: Emit): (what: string) => void {
  let t = performance.now();
  return (what) => {
    const now = performance.now();
    emit({ type: 'status', message: `${what} (${((now - t) / 1000).toFixed(1)} s)` });
    t = now;
  };
}

/** What the data became: examples, sequences or classes, the split, what was rejected, a new head. */
function dataLine(run: Run): string {
  const { data } = run;
  const split = `${data.train.length} train / ${data.val.length} val`;
  if (run.kind === 'lm') {
    const p = run.preview;
    if (!p) return `data: ${split}`;
    return `data: ${p.format}, ${p.examples} examples, ${p.tokens} tokens → ${p.sequences} sequences of ${run.config.seqLen} (${split})${p.rejected.length ? `; ${p.rejected.length} rows rejected, first: line ${p.rejected[0].line}: ${p.rejected[0].reason}` : ''}`;
  }
  const p = run.preview;
  if (!p) return `data: ${split}`;
  return `data: ${p.classes.length} classes (${p.counts.join('/')} images), ${split}${p.rejected.length ? `; ${p.rejected.length} files rejected, first: ${p.rejected[0].file}: ${p.rejected[0].reason}` : ''}${run.loaded.head.newHead ? `; new ${run.loaded.head.numClasses}-class head` : ''}`;
}

/** Merge a PEFT adapter into its base and write the merged HF folder, with the parity figure. */
export async function runExport(job: ExportJob, emit: Emit) {
  const source = dirSource(job.model);
  const { loaded, adapter } = await loadWithAdapter(source, dirSource(job.adapter), await loadModelDir(source));
  emit({ type: 'status', message: `adapter: ${adapter.modules.length} modules, r ${adapter.config.r}, scale ${adapter.scale}${adapter.config.useDora ? ', DoRA' : ''}` });
  const merged = new Map<string, Float32Array>();
  for (const m of adapter.modules) {
    const stored = loaded.tensors.get(m.weight);
    if (!stored) throw new Error(`base weight ${m.weight} missing`);
    const W = await tensorFloat32(stored); // a streamed load keeps no copy: read again, one weight at a time
    merged.set(m.weight, m.magnitude
      ? doraMerge(W, m.layout, m.IN, m.OUT, m.B, m.A, m.r, adapter.scale, m.magnitude)
      : mergeDelta(W, m.layout, m.IN, m.OUT, m.B, m.A, m.r, adapter.scale));
  }
  let newHead;
  if (adapter.classifier) {
    if (loaded.kind === 'vit' && loaded.head.newHead) {
      newHead = { weight: adapter.classifier.weight, bias: adapter.classifier.bias, id2label: Object.fromEntries(Array.from({ length: adapter.classifier.numClasses }, (_, i) => [String(i), `LABEL_${i}`])) };
    } else {
      merged.set('classifier.weight', adapter.classifier.weight);
      merged.set('classifier.bias', adapter.classifier.bias);
    }
  }
  const companions = await readCompanions(source);
  // Parity on one sample: a fixed token row (GPT-2) or a mid-grey image (ViT).
  const T = loaded.kind === 'gpt2' ? Math.min(32, loaded.config.n_positions) : loaded.kind === 'llama' ? Math.min(32, loaded.config.max_position_embeddings, loaded.config.slidingWindow ?? 32) : 0;
  const sample = loaded.kind !== 'vit'
    ? Uint32Array.from({ length: T }, (_, i) => (i * 7919) % loaded.config.vocab_size)
    : new Float32Array(loaded.config.num_channels * loaded.config.image_size[0] * loaded.config.image_size[1]).fill(0.1);
  const values = adapterValues(adapter);
  const head = new Map([...values].filter(([k]) => k.startsWith('classifier.')));
  const parity = await mergedParity({
    ctx: await getDevice({ label: 'lorasc-cli-export' }), loaded, merged, sample, B: 1, T,
    adapter: adapterEngineOptions(adapter, linearModules(loaded)), adapterValues: values, head,
  });
  const mergeCheck = await checkMerge(loaded, adapter.modules.map((m) => ({ weight: m.weight, layout: m.layout, IN: m.IN, OUT: m.OUT, A: m.A, B: m.B, r: m.r, scale: adapter.scale, ...(m.magnitude ? { magnitude: m.magnitude } : {}) })), merged);
  // Written after the parity figure (a refused export writes nothing): tensor by tensor straight to disk,
  // merged ones from `merged`, the rest streamed from the base; a ViT's new head is written in memory.
  emit({ type: 'status', message: `writing the merged model tensor by tensor${job.exportDtype && !newHead ? ` in ${job.exportDtype}` : ''}` });
  const tally = job.exportDtype && !newHead ? new RoundingTally(job.exportDtype) : undefined;
  if (job.exportDtype && newHead) emit({ type: 'warning', message: `--export-dtype ${job.exportDtype}: a ViT with a new head is written in F32` });
  const written = newHead
    ? await writeAll('', (await fetchPassthrough(loaded), buildMergedModelFiles({ model: loaded, merged, newHead, companions })))
    : await writeMergedModelStreamed({
      model: loaded, merged: (name) => merged.get(name), companions, maxShardBytes: job.maxShardBytes, dtype: tally?.dtype, tally,
      storedSlice: await storedSlices(job.model, loaded),
    }, outSink(''));
  return {
    files: written, parity: { max_abs: parity.maxAbs, max_rel: parity.maxRel, count: parity.count },
    merge_check: mergeCheckSummary(mergeCheck), export_dtype: tally?.dtype ?? 'F32', ...(tally ? { rounding: roundingSummary(tally.figure()) } : {}),
  };
}

/**
 * The sampled-rows merge check (docs/formats.md#parity); a failure refuses the export before anything is written.
 * `merges`: the sequential F32 merges behind the weights (a cascade's iterations; 1 for a one-shot merge).
 */
async function checkMerge(loaded: LoadedModel, modules: Parameters<typeof checkMergedRows>[0], merged: ReadonlyMap<string, Float32Array>, merges = 1): Promise<MergeCheck> {
  const check = await checkMergedRows(modules, (n) => tensorFloat32(loaded.tensors.get(n) as NonNullable<ReturnType<typeof loaded.tensors.get>>), (n) => merged.get(n), { ulps: mergeCheckUlps(merges) });
  assertMergeCheck(check);
  return check;
}

function mergeCheckSummary(c: MergeCheck | null) {
  return c ? { tensors: c.tensors, rows: c.rows, max_ulps: c.maxUlps, allowed_ulps: c.allowed } : null;
}

/** How much of the update survived the BF16/F16 rounding (docs/formats.md#export-precision). */
function roundingSummary(f: RoundingFigure) {
  return { changed: f.changed, survived: f.survived, survived_fraction: f.survivedFraction, delta_rel_error: f.deltaRelError };
}
