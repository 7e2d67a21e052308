// The CLI's inference jobs, run in the engine page: eval (LM loss over a text or token file — GPT-2 or a
// Llama-family model —, ViT loss and accuracy over an image folder), generate and classify, each with an
// optional PEFT adapter.
import { getDevice } from '../../gpu/device';
import type { GpuContext } from '../../gpu/context';
import { type LoadedGpt2, type LoadedLlama, type LoadedModel, type LoadedVit, loadModelDir } from '../../io/hfModel';
import { listImageFolder } from '../../io/datasets';
import { preprocessImage, type PreprocessorConfig } from '../../io/preprocess';
import { defaultProcessor } from '../../train/prepare';
import { writeSafetensors } from '../../io/safetensors';
import { generate } from '../../model/gpt2/generate';
import type { Gpt2LoraModel } from '../../model/gpt2/model';
import { llamaContext } from '../../model/families/llama';
import { generateLlama } from '../../model/llama/generate';
import type { LlamaLoraModel } from '../../model/llama/model';
import { loadFolderTokenizer } from '../../io/tokenizer';
import type { VitLoraModel } from '../../model/vit/model';
import { topKPredictions } from '../../model/vit/classify';
import type { VitConfig } from '../../io/hfModel/config';
import { adapterEngineOptions, applyAdapter, createEngine, createPlainEngine, loadTokenizer, loadWithAdapter } from '../../train/engine';
import { crossEntropy, topClass } from '../../train/evaluate';
import { linearModules } from '../../train/modules';
import type { CliEvent, ClassifyJob, DirRef, EvalImagesJob, EvalLmJob, GenerateJob } from '../jobs';
import { dirSource, pathIn, readFile, writeOut } from './bridge';
import { loadModel, loadStats } from './load';
import { decodeImage } from '../../io/imageDecode';

type Emit = (e: CliEvent) => void;

/** The engine of an inference job, typed by the model's family. */
type Ready =
  | { kind: 'gpt2'; ctx: GpuContext; loaded: LoadedGpt2; engine: Gpt2LoraModel }
  | { kind: 'llama'; ctx: GpuContext; loaded: LoadedLlama; engine: LlamaLoraModel }
  | { kind: 'vit'; ctx: GpuContext; loaded: LoadedVit; engine: VitLoraModel };

/** Builds an engine for the loaded model with the adapter, or the plain engine (no adapter effect) without one. */
export async function prepare(probe: LoadedModel, model: DirRef, adapter: DirRef | undefined, B: number, T: number): Promise<Ready> {
  const imported0 = adapter ? await loadWithAdapter(dirSource(model), dirSource(adapter), probe) : null;
  const loaded = imported0?.loaded ?? probe;
  const ctx = await getDevice({ label: 'lorasc-cli' });
  const imported = imported0?.adapter;
  // A ViTModel (no classifier) would get a freshly initialised, random head: its loss, accuracy and labels mean nothing.
  if (loaded.kind === 'vit' && loaded.head.newHead && !imported?.classifier) {
    const why = loaded.head.reason === 'class-count'
      ? `its ${loaded.head.checkpointClasses}-class classifier does not fit the ${loaded.head.numClasses} classes asked for`
      : 'it has no classifier (a ViTModel checkpoint: no classifier.weight)';
    throw new Error(`${model.root} cannot classify: ${why}; fine-tune a head with \`lorasc train\`, or pass --adapter with a trained classifier (modules_to_save ["classifier"])`);
  }
  const options = imported ? { ...adapterEngineOptions(imported, linearModules(loaded)), B, T, seed: 0 } : null;
  if (loaded.kind === 'gpt2') {
    const engine = options ? await createEngine(ctx, loaded, options) : await createPlainEngine(ctx, loaded, { B, T });
    if (imported) applyAdapter(engine, imported);
    return { kind: 'gpt2', ctx, loaded, engine };
  }
  if (loaded.kind === 'llama') {
    const engine = options ? await createEngine(ctx, loaded, options) : await createPlainEngine(ctx, loaded, { B, T });
    if (imported) applyAdapter(engine, imported);
    return { kind: 'llama', ctx, loaded, engine };
  }
  const engine = options ? await createEngine(ctx, loaded, options) : await createPlainEngine(ctx, loaded, { B, T });
  if (imported) applyAdapter(engine, imported);
  return { kind: 'vit', ctx, loaded, engine };
}

/**
 * Mean next-token loss (as HF's `model(ids, labels=ids).loss`) over the token stream, in windows of up
 * to the model's context (GPT-2 n_positions; a Llama's max_position_embeddings or shorter sliding window)
 * that overlap by one, so every token after the first is predicted exactly once. The last window is
 * padded at the end; causal attention keeps padding from touching real positions. `--text` is tokenized
 * as HF's `tokenizer(text)` does: a Llama-family tokenizer adds its BOS (tokenizer_config.json rules).
 */
export async function runEvalLm(job: EvalLmJob, emit: Emit) {
  const source = dirSource(job.model);
  const loadedProbe = await loadModel(job.model, emit);
  if (loadedProbe.kind === 'vit') throw new Error(`eval --text/--tokens needs a language model (GPT-2, Llama, Mistral, Qwen2, Qwen3); ${job.model.root} is a ViT`);
  let ids: number[];
  if (job.tokens) ids = job.tokens;
  else {
    const noTokenizer = `${job.model.root} has no tokenizer.json (or vocab.json + merges.txt); pass --tokens FILE.json instead`;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(await readFile(job.text!.path));
    if (loadedProbe.kind === 'gpt2') {
      const tok = await loadTokenizer(source);
      if (!tok) throw new Error(noTokenizer);
      ids = tok.encode(text);
    } else {
      const tok = await loadFolderTokenizer(source);
      if (!tok) throw new Error(noTokenizer);
      ids = tok.encode(text, { addSpecialTokens: true });
    }
  }
  const V = loadedProbe.config.vocab_size;
  const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= V);
  if (bad >= 0) throw new Error(`token ${bad} is ${ids[bad]}, outside the vocabulary [0, ${V})`);
  if (ids.length < 2) throw new Error(`the input is ${ids.length} token(s); at least 2 are needed to predict one`);
  const context = loadedProbe.kind === 'gpt2' ? loadedProbe.config.n_positions : llamaContext(loadedProbe.config);
  const T = Math.min(context, ids.length);
  const ready = await prepare(loadedProbe, job.model, job.adapter, 1, T);
  if (ready.kind === 'vit') throw new Error(`eval --text/--tokens needs a language model; ${job.model.root} is a ViT`);
  const gpt = ready.engine;
  const N = ids.length;
  const logitsAll = job.logitsOut ? new Float32Array(N * V) : null;
  let lossSum = 0, predicted = 0, windows = 0;
  for (let start = 0; start < N - 1; start += T - 1) {
    const len = Math.min(T, N - start);
    const input = new Uint32Array(T);
    input.set(ids.slice(start, start + len));
    const logits = await gpt.forwardLogits(input);
    for (let j = 0; j < len - 1; j++) {
      lossSum += crossEntropy(logits.subarray(j * V, (j + 1) * V), ids[start + j + 1]);
      predicted++;
    }
    if (logitsAll) {
      // Token p's logits come from the window where p is not the last position (the final token: the last window).
      const upto = start + len >= N ? len : len - 1;
      logitsAll.set(logits.subarray(0, upto * V), start * V);
    }
    windows++;
    emit({ type: 'progress', done: Math.min(start + len, N), total: N });
    if (start + len >= N) break;
  }
  let logitsFile: string | undefined;
  if (logitsAll && job.logitsOut) {
    await writeOut(job.logitsOut, writeSafetensors(new Map([['logits', { data: logitsAll, shape: [N, V] }]]), { file: job.logitsOut }));
    logitsFile = job.logitsOut;
  }
  return { loss: lossSum / predicted, tokens: N, predicted, windows, ...(logitsFile ? { logitsFile } : {}), load: loadStats() };
}

function processorFor(loaded: LoadedModel): { pre: PreprocessorConfig; config: VitConfig } {
  if (loaded.kind !== 'vit') throw new Error('images need a ViT model');
  const config = loaded.config;
  const pre = loaded.preprocessor ?? defaultProcessor(config);
  return { pre, config };
}

export async function runEvalImages(job: EvalImagesJob, emit: Emit) {
  const folder = listImageFolder(job.images.files.map((f) => `${job.images.root.split('/').pop()}/${f}`));
  const probe = await loadModel(job.model, emit);
  if (probe.kind !== 'vit') throw new Error(`eval --images needs a ViT model; ${job.model.root} is a ${probe.kind}`);
  const ready = await prepare(probe, job.model, job.adapter, job.batch, 0);
  if (ready.kind !== 'vit') throw new Error(`eval --images needs a ViT model; ${job.model.root} is a ${ready.kind}`);
  const { engine, loaded } = ready;
  const { pre, config } = processorFor(loaded);
  // A head that came with the adapter (ViTModel base, or another class count) has its own K classes, unnamed.
  const labels = loaded.kind !== 'vit' ? []
    : loaded.head.newHead ? Array.from({ length: loaded.head.numClasses }, (_, i) => `LABEL_${i}`) : loaded.config.id2label;
  // Folder classes map to the model's labels by name when every class is one of them, else by sorted order.
  const byName = folder.classes.every((c) => labels.includes(c));
  const classId = (k: number) => (byName ? labels.indexOf(folder.classes[k]) : k);
  if (!byName && folder.classes.length !== labels.length) {
    throw new Error(`the folder has ${folder.classes.length} classes (${folder.classes.join(', ')}) and the model ${labels.length} (${labels.join(', ')}); name the class folders after the model's labels`);
  }
  const rejected: string[] = folder.rejected.map((r) => `${r.file}: ${r.reason}`);
  let lossSum = 0, correct = 0, count = 0;
  const items = folder.items;
  const pixelsPer = config.num_channels * config.image_size[0] * config.image_size[1];
  for (let i = 0; i < items.length; i += job.batch) {
    const chunk = items.slice(i, i + job.batch);
    const pixels: Float32Array[] = [], ys: number[] = [];
    for (const it of chunk) {
      const rel = it.path.split('/').slice(1).join('/');
      try {
        pixels.push(preprocessImage(await decodeImage(await readFile(pathIn(job.images, rel)), rel), pre, config));
        ys.push(classId(it.label));
      } catch (e) {
        rejected.push(`${rel}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (pixels.length === 0) continue;
    const input = new Float32Array(pixels.length * pixelsPer);
    pixels.forEach((p, b) => input.set(p, b * pixelsPer));
    const logits = await engine.forwardLogits(input);
    const NL = logits.length / pixels.length;
    for (let b = 0; b < pixels.length; b++) {
      const row = logits.subarray(b * NL, (b + 1) * NL);
      lossSum += crossEntropy(row, ys[b]);
      if (topClass(row) === ys[b]) correct++;
      count++;
    }
    emit({ type: 'progress', done: Math.min(i + job.batch, items.length), total: items.length });
  }
  if (count === 0) throw new Error(`no image in ${job.images.root} could be evaluated (${rejected.length} rejected)`);
  return { loss: lossSum / count, accuracy: correct / count, images: count, classes: folder.classes, rejected };
}

export async function runGenerate(job: GenerateJob) {
  const source = dirSource(job.model);
  const probe = await loadModelDir(source);
  if (probe.kind === 'llama') return runGenerateLlama(job, probe);
  if (probe.kind !== 'gpt2') throw new Error(`generate needs a language model (GPT-2, Llama, Mistral, Qwen2, Qwen3); ${job.model.root} is a ${probe.kind}`);
  const tok = await loadTokenizer(source);
  if (!tok) throw new Error(`${job.model.root} has no tokenizer.json (or vocab.json + merges.txt)`);
  const promptIds = tok.encode(job.prompt);
  if (promptIds.length === 0) throw new Error('the prompt is empty');
  const ready = await prepare(probe, job.model, job.adapter, 1, probe.config.n_positions);
  if (ready.kind !== 'gpt2') throw new Error(`generate needs a GPT-2 model; ${job.model.root} is a ${ready.kind}`);
  const out = await generate(ready.engine, Uint32Array.from(promptIds), {
    maxNewTokens: job.maxNewTokens, temperature: job.temperature, topK: job.topK, seed: job.seed, eosTokenId: tok.eosTokenId ?? undefined,
  });
  return {
    text: job.prompt + tok.decode(out.ids, { skipSpecialTokens: true }),
    promptTokens: promptIds.length, newTokens: out.ids.length, stopReason: out.stopReason,
  };
}

/**
 * generate with a Llama-family model: the prompt tokenized as HF's `tokenizer(prompt)` (BOS added per
 * tokenizer_config.json), KV-cached decoding (src/model/llama/generate.ts) that stops at any EOS id of
 * config.json's eos_token_id or the tokenizer's.
 */
async function runGenerateLlama(job: GenerateJob, probe: LoadedLlama) {
  const tok = await loadFolderTokenizer(dirSource(job.model));
  if (!tok) throw new Error(`${job.model.root} has no tokenizer.json`);
  const promptIds = tok.encode(job.prompt, { addSpecialTokens: true });
  if (promptIds.length === 0) throw new Error('the prompt is empty');
  // The decoder plans its own (1, T) passes; the engine's own plan only needs one position.
  const ready = await prepare(probe, job.model, job.adapter, 1, 1);
  if (ready.kind !== 'llama') throw new Error(`generate: ${job.model.root} changed while loading (now a ${ready.kind})`);
  const eos = [...probe.config.eos_token_id, ...(tok.eosTokenId === null ? [] : [tok.eosTokenId])];
  const out = await generateLlama(ready.engine, Uint32Array.from(promptIds), {
    maxNewTokens: job.maxNewTokens, temperature: job.temperature, topK: job.topK, seed: job.seed, eosTokenIds: eos,
  });
  return {
    text: job.prompt + tok.decode(out.ids, { skipSpecialTokens: true }),
    promptTokens: promptIds.length, newTokens: out.ids.length, stopReason: out.stopReason,
  };
}

export async function runClassify(job: ClassifyJob) {
  const probe = await loadModelDir(dirSource(job.model));
  if (probe.kind !== 'vit') throw new Error(`classify needs a ViT model; ${job.model.root} is a ${probe.kind}`);
  const ready = await prepare(probe, job.model, job.adapter, 1, 0);
  if (ready.kind !== 'vit') throw new Error(`classify needs a ViT model; ${job.model.root} is a ${ready.kind}`);
  const { engine, loaded } = ready;
  const { pre, config } = processorFor(loaded);
  const labels = loaded.config.id2label;
  const results = [];
  for (const img of job.images) {
    const pixels = preprocessImage(await decodeImage(await readFile(img.path), img.path), pre, config);
    const logits = await engine.forwardLogits(pixels);
    const names = labels.length === logits.length ? labels : Array.from({ length: logits.length }, (_, i) => `LABEL_${i}`);
    results.push({ image: img.path, top: topKPredictions(logits, names, job.topK)[0].map((p) => ({ label: p.label, prob: p.prob })) });
  }
  return { results };
}
