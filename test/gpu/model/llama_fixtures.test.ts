// Whole-step tests of the Llama-family engine (LlamaLoraModel) against the float64 PyTorch fixtures of
// test/fixtures/gen_llama_fixtures.py (issue 12 item 9): four HF checkpoints built outside the engine —
// Llama (GQA 2, llama3 rope scaling, untied, F32), Mistral (MQA, head_dim ≠ hidden/heads, BF16 in 2 shards),
// Qwen2 (GQA 3, q/k/v biases, linear rope scaling, tied, F16), Qwen3 (GQA 1, q/k norms, head_dim ≠
// hidden/heads, tied, BF16) — each with a LoRA and a DoRA state: logits, loss, every A/B/m gradient, 5
// AdamW steps (losses and final values, weight decay on), KV-cached decode logits; plus the engine that
// createEngine builds for the trainer/CLI on the same checkpoint (its eval loss and target count).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { type SafetensorsFile, readSafetensors } from '../../../src/io/safetensors';
import { LlamaDecoder } from '../../../src/model/llama/generate';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { createEngine } from '../../../src/train/engine';
import { linearModules } from '../../../src/train/modules';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { testContext } from '../../helpers/gpu';

const REGEN = '/usr/bin/python3 test/fixtures/gen_llama_fixtures.py';

/**
 * The GPT-2 fixture's bounds (gpt2.test.ts, same reasons): the engine is F32 end to end, the fixture
 * float64 cast to F32, so every difference is F32 rounding and summation order. The logits here reach
 * ~2.4 (GPT-2's ≤ 0.6), which the relative part covers. Measured on SwiftShader over the 8 states: logits
 * max |diff| ≤ 1.1e-6 (|logit| ≤ 2.4), loss ≤ 4.8e-7 (1 ulp of ~4.3; 0 with DoRA), A/B/m gradients ≤ 1.9e-7
 * (|g| ≤ 0.29), AdamW losses ≤ 4.8e-7, values after 5 steps ≤ 5.6e-7 (|p| ≤ 1), decode logits ≤ 9.5e-7.
 */
const TOL = {
  /** A dozen chained fp32 reductions (RMSNorm, dots of K ≤ 52, softmax) per logit. */
  logits: { atol: 1e-6, rtol: 1e-5 },
  /** One log-sum-exp and a 16-term mean on top of the logits: a few ulp of ~4. */
  loss: { atol: 0, rtol: 2e-6 },
  /** The whole backward (RMSNorm, RoPE, attention, SwiGLU backward, each a reduction) on top of the forward. */
  grads: { atol: 1e-7, rtol: 1e-4 },
  /** Adam's m/√v turns tiny gradient errors into O(lr) steps; 5 steps of lr 0.01 stay within a few ulp. */
  adamwLosses: { atol: 0, rtol: 1e-5 },
  /**
   * Values after 5 AdamW steps (not in the GPT-2 test): each step moves an element by lr·m̂/(√v̂ + eps)
   * with |m̂/√v̂| ≲ 1, so a relative gradient error δ moves it by ~lr·δ ≤ 1e-2·1e-4 per step.
   */
  adamwValues: { atol: 5e-6, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;

interface Family {
  name: 'llama' | 'mistral' | 'qwen2' | 'qwen3';
  files: string[];
  /** What the checkpoint is, checked against the loaded config (so a parse that drops a switch fails here). */
  expect: { NH: number; NKV: number; HS: number; tied: boolean; qkvBias: boolean; qkNorm: boolean; rope: string | null };
  /** How the engine holds the frozen weights by default: the checkpoint's precision (BF16/F16 packed two per u32). */
  frozen: 'f32' | 'bf16' | 'f16';
}

const FAMILIES: Family[] = [
  { name: 'llama', files: ['config.json', 'model.safetensors'], expect: { NH: 4, NKV: 2, HS: 8, tied: false, qkvBias: false, qkNorm: false, rope: 'llama3' }, frozen: 'f32' },
  {
    name: 'mistral',
    files: ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
    expect: { NH: 4, NKV: 1, HS: 12, tied: false, qkvBias: false, qkNorm: false, rope: null }, frozen: 'bf16',
  },
  { name: 'qwen2', files: ['config.json', 'model.safetensors'], expect: { NH: 6, NKV: 2, HS: 6, tied: true, qkvBias: true, qkNorm: false, rope: 'linear' }, frozen: 'f16' },
  { name: 'qwen3', files: ['config.json', 'model.safetensors'], expect: { NH: 4, NKV: 4, HS: 12, tied: true, qkvBias: false, qkNorm: true, rope: null }, frozen: 'bf16' },
];

async function fetchBytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`fetch ${path}: HTTP ${res.status}; regenerate with: ${REGEN}`);
  return new Uint8Array(await res.arrayBuffer());
}

const loadedOnce = new Map<string, Promise<LoadedLlama>>();
function loadFamily(f: Family): Promise<LoadedLlama> {
  let p = loadedOnce.get(f.name);
  if (!p) {
    p = (async () => {
      const files = new Map<string, Uint8Array>();
      for (const n of f.files) files.set(n, await fetchBytes(`/test/fixtures/llama_${f.name}_tiny/${n}`));
      const loaded = await loadModelDir(sourceFromMap(files));
      if (loaded.kind !== 'llama') throw new Error(`llama_${f.name}_tiny loaded as a ${loaded.kind} model`);
      return loaded;
    })();
    loadedOnce.set(f.name, p);
  }
  return p;
}

async function loadState(file: string, dora: boolean): Promise<SafetensorsFile> {
  const state = readSafetensors(await fetchBytes(`/test/fixtures/llama_states/${file}`), file);
  const m = state.metadata;
  if (m?.get('magic') !== 'lorasc-fixture' || m.get('version') !== '1' || (m.get('use_dora') === 'true') !== dora) {
    throw new Error(`${file} is stale or foreign; regenerate with: ${REGEN}`);
  }
  return state;
}

function metaOf(state: SafetensorsFile) {
  return (key: string): string => {
    const v = state.metadata?.get(key);
    if (v === undefined) throw new Error(`fixture metadata has no ${key}; regenerate with: ${REGEN}`);
    return v;
  };
}

const adapterOf = (s: SafetensorsFile) =>
  new Map([...s.tensors].filter(([k]) => k.startsWith('base_model.')).map(([k, t]) => [k, t.data]));

for (const fam of FAMILIES) {
  for (const dora of [false, true]) {
    const file = `${fam.name}_${dora ? 'dora_' : ''}state.safetensors`;
    describe(`${fam.name} + ${dora ? 'DoRA' : 'LoRA'} whole step vs PyTorch fixture (${file})`, () => {
      let ctx: GpuContext;
      let loaded: LoadedLlama;
      let state: SafetensorsFile;
      let meta: (key: string) => string;
      let model: LlamaLoraModel;
      let ids: Uint32Array, labels: Int32Array;
      let adapter: Map<string, Float32Array>;
      let B: number, T: number, r: number, scale: number, targets: string[];
      let adamw: { beta1: number; beta2: number; eps: number; weightDecay: number };

      beforeAll(async () => {
        ctx = await testContext();
        loaded = await loadFamily(fam);
        state = await loadState(file, dora);
        meta = metaOf(state);
        B = Number(meta('B'));
        T = Number(meta('T'));
        r = Number(meta('lora_r'));
        scale = Number(meta('lora_alpha')) / r;
        targets = meta('target_modules').split(',');
        const [beta1, beta2] = meta('betas').split(',').map(Number);
        adamw = { beta1, beta2, eps: Number(meta('eps')), weightDecay: Number(meta('weight_decay')) };
        ids = Uint32Array.from(state.get('input_ids').data);
        labels = Int32Array.from(state.get('labels').data);
        adapter = adapterOf(state);
        model = await LlamaLoraModel.create(ctx, loaded, { targetModules: targets, r, scale, B, T, ...(dora ? { useDora: true } : {}) });
        model.setLoraWeights(adapter);
      });

      it('loads as the checkpoint it is (family, heads, head_dim, tying, biases, q/k norm, rope scaling)', () => {
        const c = loaded.config;
        expect(c.model_type).toBe(fam.name);
        expect([c.num_attention_heads, c.num_key_value_heads, c.head_dim]).toEqual([fam.expect.NH, fam.expect.NKV, fam.expect.HS]);
        expect([c.tie_word_embeddings, c.qkvBias, c.oBias, c.mlpBias, c.qkNorm]).toEqual([fam.expect.tied, fam.expect.qkvBias, false, false, fam.expect.qkNorm]);
        const sc = c.rope_scaling;
        expect(sc === null ? null : (sc.rope_type ?? sc.type)).toBe(fam.expect.rope);
        expect(loaded.tensors.has('lm_head.weight')).toBe(!fam.expect.tied);
        // Every frozen linear, the embedding and the head in the checkpoint's precision: the losses below run the packed kernels.
        const w = model.parts.weights;
        expect(new Set([w.embedFormat, w.headFormat, ...w.layers.flatMap((b) => Object.values(b.linear).map((l) => l.format))])).toEqual(new Set([fam.frozen]));
      });

      it('has exactly the fixture\'s trainable tensors (PEFT names and shapes)', () => {
        const entries = model.trainableEntries();
        expect(entries.map((e) => e.name).sort()).toEqual([...adapter.keys()].sort());
        for (const e of entries) expect(e.shape).toEqual(state.get(e.name).shape);
        expect(entries.filter((e) => e.name.endsWith('.lora_magnitude_vector')).length).toBe(dora ? entries.length / 3 : 0);
      });

      it(`logits, loss and every ${dora ? 'A, B and magnitude' : 'LoRA'} gradient match`, async () => {
        model.setLoraWeights(adapter);
        expectAllClose(await model.forwardLogits(ids), state.get('logits').data, TOL.logits, 'logits');
        const { loss } = await model.step(ids, labels);
        expectAllClose([loss], state.get('loss').data, TOL.loss, 'loss');
        const grads = await model.readGrads();
        expect(grads.size).toBe(adapter.size);
        for (const [name, g] of grads) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
      });

      it('5 AdamW steps (weight decay on) match torch.optim.AdamW: the losses and the final values', async () => {
        model.setLoraWeights(adapter);
        model.resetOptimizer();
        const expected = state.get('adamw_losses').data;
        const losses: number[] = [];
        for (let k = 0; k < expected.length; k++) {
          losses.push((await model.step(ids, labels)).loss);
          await model.adamwStep(Number(meta('lr')), adamw);
        }
        expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
        for (const [name, v] of await model.readLoraWeights()) expectAllClose(v, state.get(`adamw.${name}`).data, TOL.adamwValues, `adamw.${name}`);
      });

      it('the KV-cached decoder gives the fixture\'s logits after the prefill and after each single-token step', async () => {
        model.setLoraWeights(adapter);
        const seq = Uint32Array.from(state.get('decode_ids').data);
        const P = Number(meta('decode_prompt'));
        const want = state.get('decode_logits').data;
        const V = loaded.config.vocab_size;
        expect(want.length).toBe((seq.length - P + 1) * V);
        const dec = await LlamaDecoder.create(model, loaded.config.max_position_embeddings);
        try {
          expectAllClose(await dec.prefill(seq.slice(0, P)), want.subarray(0, V), TOL.logits, 'prefill last row');
          for (let i = P; i < seq.length; i++) {
            const k = i - P + 1;
            expectAllClose(await dec.step(seq[i]), want.subarray(k * V, (k + 1) * V), TOL.logits, `decode step ${k} (${i + 1} tokens)`);
          }
        } finally {
          dec.destroy();
        }
      });

      it('the engine createEngine builds (trainer, CLI) evaluates the same loss over the same targets', async () => {
        const mods = linearModules(loaded).filter((m) => targets.some((t) => m.path.endsWith(`.${t}`)));
        expect(mods.length).toBe(loaded.config.num_hidden_layers * targets.length);
        const engine = await createEngine(ctx, loaded, { targets: mods, r, scale, useDora: dora, B, T, seed: 0 });
        try {
          expect(engine).toBeInstanceOf(LlamaLoraModel);
          engine.setLoraWeights(adapter);
          const { loss, count } = await engine.evalLoss(ids, labels);
          expectAllClose([loss], state.get('loss').data, TOL.loss, 'createEngine loss');
          expect(count).toBe(labels.filter((l) => l !== -100).length);
        } finally {
          engine.destroy();
        }
      });
    });
  }
}
