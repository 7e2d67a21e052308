// Export round trip of trained runs (docs/formats.md#peft-adapter, #exports): buildExports, then the merged folder re-loaded
// with loadModelDir and the adapter folder with readAdapterDir. The re-loaded merged model and base +
// re-imported adapter give the same logits (≤ 1e-4, PEFT's merge tolerance: the two sum the same
// update in different F32 orders), the reported parity figure is ≤ 1e-4, a LoRASC cascade exports as
// one LoRA of rank T·r with lora_alpha T·r (scale 1), and the files carry PEFT's key names and
// adapter_config.json fields. GPT-2 (LoRA, LoRASC) and ViT (LoRA + trained classifier).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedGpt2, type LoadedModel, type LoadedVit, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { readAdapterDir } from '../../../src/io/peft';
import { readSafetensors } from '../../../src/io/safetensors';
import type { TrainingConfig } from '../../../src/train/config';
import { type AnyEngine, adapterEngineOptions, applyAdapter, createEngine } from '../../../src/train/engine';
import { type ExportBundle, buildExports } from '../../../src/train/export';
import { type LinearModule, linearModules, loraKeys } from '../../../src/train/modules';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { GPT2_TARGETS, type Run, VIT_TARGETS, bitsEqual, expectBits, logitsOf, maxAbsDiff, runTraining, toyImages, toyLm } from './helpers';

const B = 4, T = 16;
/** PEFT's merge-test tolerance and the export's parity target (docs/formats.md#parity). */
const PARITY = 1e-4;

/** The 19 keys PEFT ≥ 0.9 knows, in the sorted order save_pretrained writes (docs/formats.md#adapter-config). */
const PEFT_KEYS = [
  'alpha_pattern', 'base_model_name_or_path', 'bias', 'fan_in_fan_out', 'inference_mode', 'init_lora_weights', 'layers_pattern',
  'layers_to_transform', 'lora_alpha', 'lora_dropout', 'modules_to_save', 'peft_type', 'r', 'rank_pattern', 'revision',
  'target_modules', 'task_type', 'use_dora', 'use_rslora',
];

let ctx: GpuContext;
let gpt2: LoadedGpt2;
let vit: LoadedVit;
const companions = new Map<string, Uint8Array>();
const vitCompanions = new Map<string, Uint8Array>();

const bytes = async (path: string) => new Uint8Array(await (await fetch(path)).arrayBuffer());
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

beforeAll(async () => {
  ctx = await testContext();
  gpt2 = (await loadFixture('gpt2_tiny', 'gpt2')).loaded;
  vit = (await loadFixture('vit_tiny', 'vit')).loaded;
  companions.set('config.json', await bytes('/test/fixtures/gpt2_tiny/config.json'));
  vitCompanions.set('config.json', await bytes('/test/fixtures/vit_tiny/config.json'));
});

/** An engine of `loaded` with no adapter effect (B = 0) on the given targets. */
async function plainEngine(loaded: LoadedModel, targets: LinearModule[], r: number, head?: ReadonlyMap<string, Float32Array>): Promise<AnyEngine> {
  const e = await createEngine(ctx, loaded, { targets, r, scale: 1, useDora: false, B, T, seed: 0 });
  e.initLora(0);
  if (head) e.setLoraWeights(head);
  return e;
}

interface RoundTrip {
  bundle: ExportBundle;
  reloaded: LoadedModel;
  adapterLogits: Float32Array;
  mergedLogits: Float32Array;
  baseLogits: Float32Array;
}

/** Exports a run, re-loads both folders and computes their logits on `input`. */
async function roundTrip<E, I extends Uint32Array | Float32Array>(
  loaded: LoadedGpt2 | LoadedVit, run: Run<E, I>, input: I, comp: Map<string, Uint8Array>,
): Promise<RoundTrip> {
  const bundle = await buildExports({ ctx, loaded, companions: comp, result: run.result, config: run.config, baseName: `fixtures/${loaded.kind}_tiny`, sample: input });
  expect(bundle.adapter, bundle.adapterNote ?? '').not.toBeNull();
  const reloaded = await loadModelDir(sourceFromMap(bundle.merged));
  const imported = await readAdapterDir(sourceFromMap(bundle.adapter!), loaded);
  expect(imported.warnings).toEqual([]);
  const adapted = await createEngine(ctx, loaded, { ...adapterEngineOptions(imported, linearModules(loaded)), B, T, seed: 0 });
  const merged = await plainEngine(reloaded, run.targets, run.config.r);
  const base = await plainEngine(loaded, run.targets, run.config.r);
  try {
    applyAdapter(adapted, imported);
    if (loaded.kind === 'vit') base.setLoraWeights(run.result.head);
    return { bundle, reloaded, adapterLogits: await logitsOf(adapted, input), mergedLogits: await logitsOf(merged, input), baseLogits: await logitsOf(base, input) };
  } finally {
    adapted.destroy();
    merged.destroy();
    base.destroy();
  }
}

function adapterConfig(bundle: ExportBundle): Record<string, unknown> {
  const t = text(bundle.adapter!.get('adapter_config.json'));
  const obj = JSON.parse(t) as Record<string, unknown>;
  // PEFT's json.dumps(indent=2, sort_keys=True): keys sorted, two-space indent, no trailing newline.
  expect(Object.keys(obj)).toEqual(PEFT_KEYS);
  expect(t.startsWith('{\n  "alpha_pattern": {},\n  "base_model_name_or_path": ')).toBe(true);
  expect(t).toMatch(/\n {2}"lora_dropout": 0\.05,\n/); // the runs use the default LoRA dropout
  expect(t.endsWith('\n}')).toBe(true);
  return obj;
}

/** The adapter's tensors: PEFT key names, shapes [r, in] / [out, r], F32, {"format": "pt"}. */
function checkAdapterTensors(bundle: ExportBundle, targets: LinearModule[], r: number, extra: string[] = []) {
  const st = readSafetensors(bundle.adapter!.get('adapter_model.safetensors')!, 'adapter_model.safetensors');
  expect(st.metadata && Object.fromEntries(st.metadata)).toEqual({ format: 'pt' });
  const want = new Map<string, number[]>();
  for (const m of targets) {
    want.set(`base_model.model.${m.path}.lora_A.weight`, [r, m.IN]);
    want.set(`base_model.model.${m.path}.lora_B.weight`, [m.OUT, r]);
  }
  expect([...st.tensors.keys()].sort()).toEqual([...want.keys(), ...extra].sort());
  for (const [k, shape] of want) {
    expect(st.get(k).shape, k).toEqual(shape);
    expect(st.get(k).dtype, k).toBe('F32');
  }
  return st;
}

describe('export round trip: GPT-2', () => {
  const data = toyLm(T, 16, 8, 1);
  const sample = data.collate(data.val.slice(0, B), B).input;
  const common: Partial<TrainingConfig> = {
    targetModules: GPT2_TARGETS, lr: 2e-2, schedule: 'constant', warmupRatio: 0, batchSize: B, seqLen: T, seed: 3,
  };

  it('LoRA: merged folder == base + adapter folder (≤ 1e-4), parity ≤ 1e-4, PEFT names and adapter_config.json', async () => {
    const run = await runTraining(ctx, gpt2, data, { ...common, method: 'lora', r: 4, loraAlpha: 8, epochs: 2 });
    try {
      const rt = await roundTrip(gpt2, run, sample, companions);
      expect(maxAbsDiff(rt.mergedLogits, rt.baseLogits), 'the export must differ from the base').toBeGreaterThan(1e-2);
      expect(maxAbsDiff(rt.mergedLogits, rt.adapterLogits)).toBeLessThanOrEqual(PARITY);
      // Base + re-imported adapter is the trained model itself: same weights, same kernels, same bits.
      expectBits(rt.adapterLogits, await logitsOf(run.engine, sample), 'base + re-imported adapter vs the trained engine');
      const p = rt.bundle.parity!;
      expect(p.flagged).toBe(false);
      expect(p.count).toBe(B * T * gpt2.config.vocab_size);
      expect(p.maxAbs).toBeLessThanOrEqual(PARITY);
      expect(p.maxAbs).toBeGreaterThan(0); // it compared two different computations

      // Merged folder: the fixture's tensor names, trained modules merged, everything else as loaded.
      const orig = readSafetensors(await bytes('/test/fixtures/gpt2_tiny/model.safetensors'));
      const out = readSafetensors(rt.bundle.merged.get('model.safetensors')!);
      expect([...out.tensors.keys()].sort()).toEqual([...orig.tensors.keys()].sort());
      expect(JSON.parse(text(rt.bundle.merged.get('config.json'))).torch_dtype).toBe('float32');
      const merged = new Set(run.targets.map((m) => m.weight));
      for (const [name, t] of rt.reloaded.tensors) {
        const want = run.result.merged.get(run.targets.find((m) => m.weight === name)?.path ?? '') ?? gpt2.tensors.get(name)!.data;
        expectBits(t.data, want, name);
        if (merged.has(name)) expect(bitsEqual(t.data, gpt2.tensors.get(name)!.data), name).toBe(false);
      }

      // Adapter folder: PEFT keys and shapes, the trained values, adapter_config.json as PEFT writes it.
      const st = checkAdapterTensors(rt.bundle, run.targets, 4);
      for (const [k, v] of run.result.adapter!.tensors) expectBits(st.get(k).data, v.data, k);
      expect(adapterConfig(rt.bundle)).toEqual({
        alpha_pattern: {}, base_model_name_or_path: 'fixtures/gpt2_tiny', bias: 'none', fan_in_fan_out: true, inference_mode: true,
        init_lora_weights: true, layers_pattern: null, layers_to_transform: null, lora_alpha: 8, lora_dropout: 0.05, modules_to_save: null,
        peft_type: 'LORA', r: 4, rank_pattern: {}, revision: null, target_modules: GPT2_TARGETS, task_type: 'CAUSAL_LM',
        use_dora: false, use_rslora: false,
      });
      const args = JSON.parse(text(rt.bundle.adapter!.get('training_args.json')));
      expect(args).toMatchObject({ method: 'lora', exported_rank: 4, cascade_iterations: 1, r: 4, loraAlpha: 8 });
    } finally {
      run.engine.destroy();
    }
  });

  it('LoRASC: the cascade exports as one LoRA of rank T·r with lora_alpha T·r; round trip and parity ≤ 1e-4', async () => {
    const r = 2, iterations = 3;
    const run = await runTraining(ctx, gpt2, data, { ...common, method: 'lorasc', r, loraAlpha: 4, epochs: iterations });
    try {
      expect(run.result.iterations.length).toBe(iterations);
      const rt = await roundTrip(gpt2, run, sample, companions);
      expect(maxAbsDiff(rt.mergedLogits, rt.baseLogits), 'the export must differ from the base').toBeGreaterThan(1e-2);
      expect(maxAbsDiff(rt.mergedLogits, rt.adapterLogits)).toBeLessThanOrEqual(PARITY);
      expect(rt.bundle.parity!.flagged).toBe(false);
      expect(rt.bundle.parity!.maxAbs).toBeLessThanOrEqual(PARITY);
      // The trained engine now holds the merged backbone with B = 0: the re-loaded merged model is it, bit for bit.
      expectBits(rt.mergedLogits, await logitsOf(run.engine, sample), 're-loaded merged model vs the trained engine');
      const rank = iterations * r;
      checkAdapterTensors(rt.bundle, run.targets, rank);
      const cfg = adapterConfig(rt.bundle);
      expect(cfg).toMatchObject({ r: rank, lora_alpha: rank, use_rslora: false, use_dora: false, fan_in_fan_out: true, task_type: 'CAUSAL_LM' });
      const imported = await readAdapterDir(sourceFromMap(rt.bundle.adapter!), gpt2);
      expect(imported.scale).toBe(1);
      expect(imported.modules.map((m) => m.path)).toEqual(run.targets.map((m) => m.path));
      expect(JSON.parse(text(rt.bundle.adapter!.get('training_args.json')))).toMatchObject({
        method: 'lorasc', exported_rank: rank, cascade_iterations: iterations, alpha: 0.5, lambda: 0.05, r,
      });
      // The adapter's lora_A blocks are the experts' A factors, one r-row block per iteration.
      const A = imported.modules[0].A;
      expect(A.length).toBe(rank * run.targets[0].IN);
      const blocks = Array.from({ length: iterations }, (_, t) => A.subarray(t * r * run.targets[0].IN, (t + 1) * r * run.targets[0].IN));
      expect(bitsEqual(blocks[0], blocks[1])).toBe(false);
      expect(run.result.adapter!.tensors.get(loraKeys(run.targets[0].path).A)!.data).toEqual(A);
    } finally {
      run.engine.destroy();
    }
  });
});

describe('export round trip: ViT', () => {
  it('LoRA + trained classifier: merged == base + adapter (≤ 1e-4), modules_to_save ["classifier"], PEFT fields', async () => {
    const images = toyImages(vit, 12, 4, 5);
    const pixels = images.collate(images.val, B).input;
    const run = await runTraining(ctx, vit, images, {
      method: 'lora', targetModules: VIT_TARGETS, r: 4, loraAlpha: 8, lr: 2e-2, schedule: 'constant', warmupRatio: 0, epochs: 2, batchSize: 4, seed: 3,
    });
    try {
      const rt = await roundTrip(vit, run, pixels, vitCompanions);
      expect(maxAbsDiff(rt.mergedLogits, rt.baseLogits), 'the LoRA must change the logits').toBeGreaterThan(1e-3);
      expect(maxAbsDiff(rt.mergedLogits, rt.adapterLogits)).toBeLessThanOrEqual(PARITY);
      expect(rt.bundle.parity!.maxAbs).toBeLessThanOrEqual(PARITY);
      // The merged folder carries the trained head under the checkpoint's names.
      const reloaded = rt.reloaded as LoadedVit;
      expectBits(reloaded.tensors.get('classifier.weight')!.data, run.result.head.get('classifier.weight')!, 'merged classifier.weight');
      expect(bitsEqual(reloaded.tensors.get('classifier.weight')!.data, vit.tensors.get('classifier.weight')!.data)).toBe(false);
      const st = checkAdapterTensors(rt.bundle, run.targets, 4, ['base_model.model.classifier.weight', 'base_model.model.classifier.bias']);
      expect(st.get('base_model.model.classifier.weight').shape).toEqual([5, vit.config.hidden_size]);
      expect(st.get('base_model.model.classifier.bias').shape).toEqual([5]);
      expect(run.targets.map((m) => m.path)).toEqual([0, 1].flatMap((l) => ['query', 'value'].map((q) => `vit.encoder.layer.${l}.attention.attention.${q}`)));
      expect(adapterConfig(rt.bundle)).toEqual({
        alpha_pattern: {}, base_model_name_or_path: 'fixtures/vit_tiny', bias: 'none', fan_in_fan_out: false, inference_mode: true,
        init_lora_weights: true, layers_pattern: null, layers_to_transform: null, lora_alpha: 8, lora_dropout: 0.05, modules_to_save: ['classifier'],
        peft_type: 'LORA', r: 4, rank_pattern: {}, revision: null, target_modules: VIT_TARGETS, task_type: null,
        use_dora: false, use_rslora: false,
      });
      const imported = await readAdapterDir(sourceFromMap(rt.bundle.adapter!), vit);
      expect(imported.classifier?.numClasses).toBe(5);
      expectBits(imported.classifier!.bias, run.result.head.get('classifier.bias')!, 'adapter classifier.bias');
    } finally {
      run.engine.destroy();
    }
  });
});
