// DoRA on both engines (useDora) against the PyTorch fixtures gpt2_tiny_dora_state.safetensors and
// vit_tiny_dora_state.safetensors (float64, DoRA written by hand in gen_fixtures.py on the gpt2_tiny /
// vit_tiny base models): logits, loss, every gradient incl. the magnitudes (norm detached), 5 AdamW
// losses; DoRA at init equals the base model; m is initialised to W0's row norms ([out, in] rows; GPT-2
// Conv1D: columns of the stored [in, out] matrix), also after setBaseWeight; the KV-cached decoder runs
// the DoRA modules too.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type SafetensorsFile, readSafetensors } from '../../../src/io/safetensors';
import { Gpt2Decoder } from '../../../src/model/gpt2/generate';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { referenceGpt2Logits } from '../../../src/model/gpt2/reference';
import { VitLoraModel } from '../../../src/model/vit/model';
import { referenceVitLogits } from '../../../src/model/vit/reference';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { REGEN, loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';

/**
 * The bounds of the LoRA whole-step tests (gpt2.test.ts, vit.test.ts) with the same reasons: the engine
 * is F32, the fixture float64 cast to F32. DoRA adds per module one F32 row norm (a sum of ≤ 192
 * squares, ~1e-7 relative) and one multiply by m/norm. Measured on SwiftShader: logits max |diff| 1.2e-7
 * (|logit| ≤ 0.6), loss 0, A/B/m gradients ≤ 3e-8 (|g| ≤ 0.14), classifier ≤ 2.4e-7 (|g| ≤ 1.7), AdamW
 * losses ≤ 6.4e-7 relative (ViT) and bitwise (GPT-2); m at init ≤ 7.5e-9 (one F32 rounding of ~0.15).
 */
const TOL = {
  /** A dozen chained fp32 reductions (LN, dots of K ≤ 192, softmax, now row norms) per logit. */
  logits: { atol: 1e-6, rtol: 1e-5 },
  /** One log-sum-exp and a short mean on top of the logits: a few ulp. */
  loss: { atol: 0, rtol: 2e-6 },
  /** The whole backward on top of the forward (dm adds one N-term sum per output). */
  grads: { atol: 1e-7, rtol: 1e-4 },
  /** Adam turns tiny gradient errors into O(lr) steps; 5 steps of lr 0.01 stay within a few ulp. */
  adamwLosses: { atol: 0, rtol: 1e-5 },
  /** GPU engine vs the CPU reference: both F32/F64, different summation orders. */
  f32Paths: { atol: 1e-6, rtol: 1e-5 },
  /** m read back (F32) vs Float64 row norms computed here: one rounding. */
  norms: { atol: 0, rtol: 1e-6 },
} satisfies Record<string, Tolerance>;

async function loadDoraState(name: string): Promise<SafetensorsFile> {
  const res = await fetch(`/test/fixtures/${name}_state.safetensors`);
  if (!res.ok) throw new Error(`fetch ${name}: HTTP ${res.status}; regenerate with: ${REGEN}`);
  const state = readSafetensors(new Uint8Array(await res.arrayBuffer()), `${name}_state.safetensors`);
  const m = state.metadata;
  if (m?.get('magic') !== 'lorasc-fixture' || m.get('version') !== '1' || m.get('use_dora') !== 'true') {
    throw new Error(`${name}_state.safetensors is stale or foreign; regenerate with: ${REGEN}`);
  }
  return state;
}

const meta = (s: SafetensorsFile, k: string) => {
  const v = s.metadata?.get(k);
  if (v === undefined) throw new Error(`fixture metadata has no ${k}; regenerate with: ${REGEN}`);
  return v;
};
const adapterOf = (s: SafetensorsFile) =>
  new Map([...s.tensors].filter(([k]) => k.startsWith('base_model.')).map(([k, t]) => [k, t.data]));

/** ‖row o‖₂ of W in [out, in] terms, Float64, written independently of src/model/dora.ts. */
function norms(w: Float32Array, IN: number, OUT: number, storedInOut: boolean): Float64Array {
  return Float64Array.from({ length: OUT }, (_, o) => {
    let s = 0;
    for (let i = 0; i < IN; i++) s += (storedInOut ? w[i * OUT + o] : w[o * IN + i]) ** 2;
    return Math.sqrt(s);
  });
}

describe('GPT-2 + DoRA vs PyTorch fixture', () => {
  let ctx: GpuContext;
  let fx: Awaited<ReturnType<typeof loadFixture<'gpt2'>>>;
  let state: SafetensorsFile;
  let model: Gpt2LoraModel;
  let ids: Uint32Array, labels: Int32Array;
  let adapter: Map<string, Float32Array>;
  let opts: Parameters<typeof Gpt2LoraModel.create>[2];

  beforeAll(async () => {
    ctx = await testContext();
    fx = await loadFixture('gpt2_tiny', 'gpt2');
    state = await loadDoraState('gpt2_tiny_dora');
    ids = Uint32Array.from(state.get('input_ids').data);
    labels = Int32Array.from(state.get('labels').data);
    adapter = adapterOf(state);
    opts = {
      targetModules: meta(state, 'target_modules').split(','), r: Number(meta(state, 'lora_r')),
      scale: Number(meta(state, 'lora_alpha')) / Number(meta(state, 'lora_r')), B: Number(meta(state, 'B')), T: Number(meta(state, 'T')), useDora: true,
    };
    model = await Gpt2LoraModel.create(ctx, fx.loaded, opts);
  });

  it('has the fixture\'s tensors: lora_A, lora_B and lora_magnitude_vector [OUT] per module', () => {
    expect(model.trainableEntries().map((e) => e.name).sort()).toEqual([...adapter.keys()].sort());
    for (const e of model.trainableEntries()) expect(e.shape).toEqual(state.get(e.name).shape);
    expect(model.trainableEntries().filter((e) => e.name.endsWith('.lora_magnitude_vector'))).toHaveLength(8);
  });

  it('at init m = row norms of W0 ([out, in] rows = columns of the Conv1D storage) and the logits are the base model\'s', async () => {
    model.initLora(3);
    const w = await model.readLoraWeights();
    for (const s of model.parts.slots) {
      const expected = norms(fx.loaded.tensors.get(s.weight)!.data, s.IN, s.OUT, true);
      expectAllClose(w.get(s.m!.name)!, expected, TOL.norms, `m of ${s.path}`);
    }
    expectAllClose(await model.forwardLogits(ids), referenceGpt2Logits(fx.loaded, ids, opts.B, opts.T), TOL.f32Paths, 'DoRA init vs base');
  });

  it('initLora after setBaseWeight takes m from the new weight', async () => {
    const path = 'transformer.h.0.attn.c_attn', s = model.parts.byPath.get(path)!;
    const w0 = fx.loaded.tensors.get('h.0.attn.c_attn.weight')!.data;
    const w1 = w0.map((v, i) => v * (1 + 0.5 * Math.sin(i)));
    model.setBaseWeight(path, w1);
    try {
      model.initLora(3);
      expectAllClose((await model.readLoraWeights()).get(s.m!.name)!, norms(w1, s.IN, s.OUT, true), TOL.norms, 'm after setBaseWeight');
    } finally {
      model.setBaseWeight(path, w0);
    }
  });

  it('logits, loss and every gradient (A, B and the magnitude, norm detached) match', async () => {
    model.setLoraWeights(adapter);
    expectAllClose(await model.forwardLogits(ids), state.get('logits').data, TOL.logits, 'logits');
    const { loss } = await model.step(ids, labels);
    expectAllClose([loss], state.get('loss').data, TOL.loss, 'loss');
    for (const [name, g] of await model.readGrads()) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
  });

  it('the losses of 5 AdamW steps on A, B, m match torch.optim.AdamW', async () => {
    model.setLoraWeights(adapter);
    model.resetOptimizer();
    const expected = state.get('adamw_losses').data;
    const [beta1, beta2] = meta(state, 'betas').split(',').map(Number);
    const losses: number[] = [];
    for (let k = 0; k < expected.length; k++) {
      losses.push((await model.step(ids, labels)).loss);
      await model.adamwStep(Number(meta(state, 'lr')), { beta1, beta2, eps: Number(meta(state, 'eps')), weightDecay: Number(meta(state, 'weight_decay')) });
    }
    expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
  });

  it('the KV-cached decoder runs DoRA: prefill and one decode step give the fixture\'s logits', async () => {
    model.setLoraWeights(adapter);
    const T = opts.T, V = fx.loaded.config.vocab_size;
    const logits = state.get('logits').data; // (B, T, V); row 0 is sequence 0
    const dec = await Gpt2Decoder.create(model);
    try {
      const prefill = await dec.prefill(ids.slice(0, T - 1));
      expectAllClose(prefill, logits.subarray((T - 2) * V, (T - 1) * V), TOL.logits, 'prefill last row');
      const step = await dec.step(ids[T - 1]);
      expectAllClose(step, logits.subarray((T - 1) * V, T * V), TOL.logits, 'decode step');
    } finally {
      dec.destroy();
    }
  });
});

describe('ViT + DoRA vs PyTorch fixture', () => {
  let ctx: GpuContext;
  let fx: Awaited<ReturnType<typeof loadFixture<'vit'>>>;
  let state: SafetensorsFile;
  let model: VitLoraModel;
  let pixels: Float32Array, labels: Int32Array;
  let init: Map<string, Float32Array>;

  beforeAll(async () => {
    ctx = await testContext();
    fx = await loadFixture('vit_tiny', 'vit');
    state = await loadDoraState('vit_tiny_dora');
    pixels = state.get('pixel_values').data;
    labels = Int32Array.from(state.get('labels').data);
    const [beta1, beta2] = meta(state, 'betas').split(',').map(Number);
    model = await VitLoraModel.create(ctx, fx.loaded, {
      targetModules: meta(state, 'target_modules').split(','), r: Number(meta(state, 'lora_r')),
      scale: Number(meta(state, 'lora_alpha')) / Number(meta(state, 'lora_r')), useDora: true,
      adamw: { beta1, beta2, eps: Number(meta(state, 'eps')), weightDecay: Number(meta(state, 'weight_decay')) },
    });
    init = adapterOf(state);
    for (const n of ['classifier.weight', 'classifier.bias']) init.set(n, fx.loaded.tensors.get(n)!.data);
  });

  it('has the fixture\'s tensors (A, B, m on all six Linears of each layer, plus the classifier)', () => {
    const grads = [...state.tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
    expect(model.trainableEntries().map((e) => e.name).sort()).toEqual(grads);
    for (const e of model.trainableEntries()) expect(e.shape).toEqual(state.get(`grad.${e.name}`).shape);
  });

  it('at init m = row norms of W0 and the logits are the base model\'s', async () => {
    const p = await model.readParams();
    for (const slot of model.trainables.slots) {
      const w = fx.loaded.tensors.get(slot.weight)!.data;
      expectAllClose(p.get(slot.m!.name)!, norms(w, slot.IN, slot.OUT, false), TOL.norms, slot.m!.name);
    }
    expectAllClose(await model.forwardLogits(pixels), referenceVitLogits(fx.loaded, pixels, labels.length), TOL.f32Paths, 'DoRA init vs base');
  });

  it('initLora after setBaseWeight takes m from the new weight', async () => {
    const path = 'vit.encoder.layer.1.intermediate.dense', slot = model.trainables.byPath.get(path)!;
    const w0 = fx.loaded.tensors.get('encoder.layer.1.intermediate.dense.weight')!.data;
    const w1 = w0.map((v, i) => v * (1 + 0.5 * Math.cos(i)));
    model.setBaseWeight(path, w1);
    try {
      model.initLora(5);
      expectAllClose((await model.readParams()).get(slot.m!.name)!, norms(w1, slot.IN, slot.OUT, false), TOL.norms, 'm after setBaseWeight');
    } finally {
      model.setBaseWeight(path, w0);
    }
  });

  it('logits, loss and every gradient (A, B, m, classifier) match', async () => {
    model.setLoraWeights(init);
    expectAllClose(await model.forwardLogits(pixels), state.get('logits').data, TOL.logits, 'logits');
    const { loss } = await model.step(pixels, labels);
    expectAllClose([loss], state.get('loss').data, TOL.loss, 'loss');
    const grads = await model.readGrads();
    expect(grads.size).toBe(model.trainableEntries().length);
    for (const [name, g] of grads) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
  });

  it('the losses of 5 AdamW steps on A, B, m and the classifier match torch.optim.AdamW', async () => {
    model.setLoraWeights(init);
    model.resetOptimizer();
    const expected = state.get('adamw_losses').data;
    const losses: number[] = [];
    for (let k = 0; k < expected.length; k++) {
      losses.push((await model.step(pixels, labels)).loss);
      await model.adamwStep(Number(meta(state, 'lr')));
    }
    expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
  });
});
