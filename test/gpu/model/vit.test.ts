// Whole-step test of the ViT LoRA engine (docs/engineering.md#whole-step-tests) against the PyTorch fixture
// test/fixtures/vit_tiny_state.safetensors (float64 PyTorch, hand-written ViTForImageClassification +
// PEFT LoRA on query/value, classifier trained): logits, loss, every LoRA and classifier gradient,
// and the losses of 5 AdamW steps. The fixture's `key`, `attention.output.dense` and MLP Linears are
// untargeted, so both the LoRA and the plain-matmul Linear paths are covered.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedVit } from '../../../src/io/hfModel';
import type { SafetensorsFile } from '../../../src/io/safetensors';
import { VitLoraModel } from '../../../src/model/vit/model';
import { type VitReferenceLora, referenceVitLogits } from '../../../src/model/vit/reference';
import { VIT_LINEAR_MODULES } from '../../../src/model/vit/weights';
import { matchesModule } from '../../../src/io/peft';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { fixtureMeta, loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';


/**
 * The engine is F32 end to end; the fixture is float64 PyTorch cast to F32 at the end, so every
 * difference is F32 rounding and summation order (C = 48, I = 96, T = 5, L = 2, 5 classes).
 * Relative-only bounds would fail on near-zero entries, whose relative error is large while their
 * absolute error is not; hence atol + rtol.
 */
const TOL = {
  /** ~a dozen chained fp32 reductions (LN, dots of K ≤ 96, softmax) per logit. */
  logits: { atol: 1e-6, rtol: 1e-5 },
  /** One more log-sum-exp and a 2-term mean on top of the logits. */
  loss: { atol: 0, rtol: 2e-6 },
  /** The whole backward (LN, attention, GELU, each a reduction) on top of the forward. */
  grads: { atol: 1e-7, rtol: 1e-4 },
  /**
   * Five optimizer steps on top of the loss: torch's own F32 AdamW on this fixture stays within 1.6e-7
   * (relative) of the float64 losses. (While adamw.wgsl formed 1 − β2 in F32 the losses were off by up
   * to 1.9e-5 relative; this bound caught that.)
   */
  adamwLosses: { atol: 0, rtol: 1e-6 },
  /** Float64 CPU reference vs float64 torch: only the F32 cast of the stored inputs differs (~6e-8 rel). */
  cpuLogits: { atol: 1e-7, rtol: 1e-6 },
  /** GPU engine vs the CPU reference or another GPU path: F32 vs F64 / different summation orders. */
  f32Paths: { atol: 1e-6, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;

const meta = fixtureMeta;

describe('ViT + LoRA whole step vs PyTorch fixture', () => {
  let ctx: GpuContext;
  let loaded: LoadedVit;
  let state: SafetensorsFile;
  let model: VitLoraModel;
  let pixels: Float32Array;
  let labels: Int32Array;
  let init: Map<string, Float32Array>; // LoRA A/B from the fixture + the checkpoint's classifier

  beforeAll(async () => {
    ctx = await testContext();
    ({ loaded, state } = await loadFixture('vit_tiny', 'vit'));
    pixels = state.get('pixel_values').data;
    labels = Int32Array.from(state.get('labels').data);
    const [beta1, beta2] = meta(state, 'betas').split(',').map(Number);
    model = await VitLoraModel.create(ctx, loaded, {
      targetModules: meta(state, 'target_modules').split(','),
      r: Number(meta(state, 'lora_r')),
      scale: Number(meta(state, 'lora_alpha')) / Number(meta(state, 'lora_r')),
      adamw: { beta1, beta2, eps: Number(meta(state, 'eps')), weightDecay: Number(meta(state, 'weight_decay')) },
    });
    init = new Map([...state.tensors].filter(([k]) => k.startsWith('base_model.')).map(([k, t]) => [k, t.data]));
    for (const n of ['classifier.weight', 'classifier.bias']) init.set(n, loaded.tensors.get(n)!.data);
    model.setLoraWeights(init);
  });

  it('has exactly the fixture\'s trainable tensors (PEFT names and shapes, plus the classifier)', () => {
    const grads = [...state.tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort();
    expect(model.trainableEntries().map((x) => x.name).sort()).toEqual(grads);
    for (const x of model.trainableEntries()) expect(x.shape).toEqual(state.get(`grad.${x.name}`).shape);
    expect(matchesModule('vit.encoder.layer.1.attention.attention.query', ['query'])).toBe(true);
    expect(matchesModule('vit.encoder.layer.1.attention.attention.key', ['query', 'value'])).toBe(false);
    expect(matchesModule('vit.encoder.layer.1.attention.output.dense', ['output.dense'])).toBe(true);
    expect(matchesModule('vit.encoder.layer.1.output.dense', ['dense'])).toBe(true);
  });

  it('logits, loss, every LoRA gradient and the classifier gradients match', async () => {
    expectAllClose(await model.forwardLogits(pixels), state.get('logits').data, TOL.logits, 'logits');
    const { loss } = await model.step(pixels, labels);
    expectAllClose([loss], state.get('loss').data, TOL.loss, 'loss');
    const grads = await model.readGrads();
    expect(grads.size).toBe(model.trainableEntries().length);
    for (const [name, g] of grads) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
    // A second step gives the same grads: they are written fresh, not accumulated across steps.
    await model.step(pixels, labels);
    for (const [name, g] of await model.readGrads()) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `2nd grad.${name}`);
  });

  it('the losses of 5 AdamW steps on LoRA + classifier match torch.optim.AdamW', async () => {
    model.setLoraWeights(init);
    model.resetOptimizer();
    const expected = state.get('adamw_losses').data;
    expect(expected.length).toBe(Number(meta(state, 'steps')));
    const losses: number[] = [];
    for (let k = 0; k < expected.length; k++) {
      losses.push((await model.step(pixels, labels)).loss);
      await model.adamwStep(Number(meta(state, 'lr')));
    }
    expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
  });

  it('CPU-reference logits (src/ref kernels, Float64) match the fixture', () => {
    const r = Number(meta(state, 'lora_r')), scale = Number(meta(state, 'lora_alpha')) / r;
    const ref: VitReferenceLora = new Map();
    for (const [k, A] of init) {
      const m = /^base_model\.model\.(.*)\.lora_A\.weight$/.exec(k);
      if (m) ref.set(m[1], { A, B: init.get(k.replace('lora_A', 'lora_B'))!, R: r, scale });
    }
    expect(ref.size).toBe(2 * loaded.config.num_hidden_layers);
    expectAllClose(referenceVitLogits(loaded, pixels, labels.length, ref), state.get('logits').data, TOL.cpuLogits, 'cpu logits');
  });

  it('with every lora_B = 0 the GPU logits equal the CPU-reference base logits', async () => {
    model.setLoraWeights(new Map([...init].map(([k, v]) => [k, k.endsWith('lora_B.weight') ? new Float32Array(v.length) : v])));
    expectAllClose(await model.forwardLogits(pixels), referenceVitLogits(loaded, pixels, labels.length), TOL.f32Paths, 'B=0 logits');
    model.setLoraWeights(init);
  });

  it('LoRA on all six Linears with the extra lora_B = 0 computes the query/value model', async () => {
    // Covers the LoRA path of key, attention.output.dense and the MLP (IN ≠ OUT). With B = 0 on the
    // extra slots the function is unchanged, so logits, loss and the shared grads agree, and the extra
    // slots' dA = (s·dy·B)ᵀ·x is exactly 0 while their dB is not.
    const all = await VitLoraModel.create(ctx, loaded, { ...model.options, targetModules: [...VIT_LINEAR_MODULES] });
    try {
      expect(all.trainableEntries().length).toBe(2 * 6 * loaded.config.num_hidden_layers + 2);
      // The extra slots keep their create-time init: A seeded (non-zero), B = 0.
      all.setLoraWeights(init);
      model.setLoraWeights(init);
      expectAllClose(await all.forwardLogits(pixels), await model.forwardLogits(pixels), TOL.f32Paths, 'all-targets logits');
      const [a, b] = [await all.step(pixels, labels), await model.step(pixels, labels)];
      expectAllClose([a.loss], [b.loss], TOL.f32Paths, 'all-targets loss');
      const ga = await all.readGrads(), gb = await model.readGrads();
      for (const [name, g] of ga) {
        const shared = gb.get(name);
        if (shared) expectAllClose(g, shared, TOL.f32Paths, `all-targets ${name}`);
        else if (name.endsWith('lora_A.weight')) expect(g.every((v) => v === 0), `${name} must be 0`).toBe(true);
        else expect(g.some((v) => v !== 0), `${name} must be non-zero`).toBe(true);
      }
    } finally {
      all.destroy();
    }
  });

  it('refuses labels outside [0, NL)', async () => {
    await expect(model.step(pixels, Int32Array.from([0, model.numLabels]))).rejects.toThrow(/not a class/);
  });
});
