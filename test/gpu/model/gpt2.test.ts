// Whole-step test of the GPT-2 LoRA engine (docs/engineering.md#whole-step-tests) against the PyTorch fixture
// test/fixtures/gpt2_tiny_state.safetensors (float64 PyTorch, hand-written GPT-2 + PEFT LoRA maths),
// plus the B = 0 invariant against the independent CPU-reference forward (src/ref kernels).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2 } from '../../../src/io/hfModel';
import type { SafetensorsFile } from '../../../src/io/safetensors';
import { loraModules, matchesModule as isTargeted } from '../../../src/io/peft';
import { layoutSlots } from '../../../src/model/adaptedLinear';
import { ArenaLayout } from '../../../src/model/arena';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { type ReferenceLora, referenceGpt2Logits } from '../../../src/model/gpt2/reference';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { type Fixture, fixtureMeta, loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';


/**
 * The engine is F32 end to end; the fixture is float64 PyTorch cast to F32 at the end, so every
 * difference is the engine's F32 rounding and summation order. Measured on SwiftShader (L = 2, C = 48,
 * V = 101, B·T = 26): logits max |diff| 1.5e-7 (|logit| ≤ 0.6), loss 0, gradients max |diff| 1.9e-8
 * (|g| ≤ 5e-2), AdamW losses 4.8e-7 (1 ulp of 4.6). The bounds leave ~5–10× headroom for hardware
 * whose exp/tanh or fused multiply-add round differently; relative-only bounds would fail on the
 * near-zero entries, whose relative error is large (up to 2e-3) while their absolute error is not.
 */
const TOL = {
  /** A dozen chained fp32 reductions (LN, dots of K ≤ 192, softmax) per logit. */
  logits: { atol: 1e-6, rtol: 1e-5 },
  /** One more log-sum-exp and a 24-term mean on top of the logits: a few ulp of ~4.6. */
  loss: { atol: 0, rtol: 2e-6 },
  /** The whole backward (LN, attention, GELU backward, each a reduction) on top of the forward. */
  grads: { atol: 1e-7, rtol: 1e-4 },
  /** Adam's m/√v turns tiny gradient errors into O(lr) steps; 5 steps of lr 0.01 stay within a few ulp. */
  adamwLosses: { atol: 0, rtol: 1e-5 },
  /** GPU engine vs CPU reference or vs another GPU path: both F32, different summation orders. */
  f32Paths: { atol: 1e-6, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;


let fixture: Promise<Fixture<'gpt2'>> | undefined;
const loadFixtureOnce = () => (fixture ??= loadFixture('gpt2_tiny', 'gpt2'));
const meta = fixtureMeta;

describe('GPT-2 + LoRA whole step vs PyTorch fixture', () => {
  let ctx: GpuContext;
  let loaded: LoadedGpt2;
  let state: SafetensorsFile;
  let model: Gpt2LoraModel;
  let ids: Uint32Array;
  let labels: Int32Array;
  let lora: Map<string, Float32Array>;
  let B: number, T: number, r: number, alpha: number;

  beforeAll(async () => {
    ctx = await testContext();
    ({ loaded, state } = await loadFixtureOnce());
    B = Number(meta(state, 'B'));
    T = Number(meta(state, 'T'));
    r = Number(meta(state, 'lora_r'));
    alpha = Number(meta(state, 'lora_alpha'));
    ids = Uint32Array.from(state.get('input_ids').data);
    labels = Int32Array.from(state.get('labels').data);
    lora = new Map([...state.tensors].filter(([k]) => k.startsWith('base_model.')).map(([k, t]) => [k, t.data]));
    model = await Gpt2LoraModel.create(ctx, loaded, { targetModules: meta(state, 'target_modules').split(','), r, loraAlpha: alpha, B, T });
    model.setLoraWeights(lora);
  });

  it('has exactly the fixture\'s trainable tensors (PEFT names and shapes)', () => {
    const expected = [...lora.keys()].sort();
    expect(model.table.map((e) => e.name).sort()).toEqual(expected);
    for (const e of model.table) expect(e.shape).toEqual(state.get(e.name).shape);
  });

  it('CPU-reference logits match the fixture (rung a: the reference graph is right)', () => {
    const refLora: ReferenceLora = new Map(model.parts.slots.map((s) => [s.path, {
      A: lora.get(s.a.name) as Float32Array, B: lora.get(s.b.name) as Float32Array, R: s.R, scale: s.scale,
    }]));
    expectAllClose(referenceGpt2Logits(loaded, ids, B, T, refLora), state.get('logits').data, TOL.logits, 'cpu logits');
  });

  it('logits, loss and every LoRA gradient match', async () => {
    expectAllClose(await model.forwardLogits(ids), state.get('logits').data, TOL.logits, 'logits');
    const { loss } = await model.step(ids, labels);
    expectAllClose([loss], state.get('loss').data, TOL.loss, 'loss');
    const grads = await model.readGrads();
    for (const [name, g] of grads) expectAllClose(g, state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
  });

  it('the losses of 5 AdamW steps match torch.optim.AdamW', async () => {
    model.setLoraWeights(lora);
    model.resetOptimizer();
    const expected = state.get('adamw_losses').data;
    const [b1, b2] = meta(state, 'betas').split(',').map(Number);
    const hyper = { beta1: b1, beta2: b2, eps: Number(meta(state, 'eps')), weightDecay: Number(meta(state, 'weight_decay')) };
    const losses: number[] = [];
    for (let k = 0; k < expected.length; k++) {
      losses.push((await model.step(ids, labels)).loss);
      await model.adamwStep(Number(meta(state, 'lr')), hyper);
    }
    expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
  });

  it('with B = 0 the adapted logits equal the CPU-reference base logits', async () => {
    const zeroB = new Map([...lora].map(([k, v]) => [k, k.endsWith('lora_B.weight') ? new Float32Array(v.length) : v]));
    model.setLoraWeights(zeroB);
    const base = referenceGpt2Logits(loaded, ids, B, T);
    expectAllClose(await model.forwardLogits(ids), base, TOL.f32Paths, 'B=0 logits vs CPU base');
  });

  it('an untargeted module (plain matmul) equals a targeted one with B = 0, forward and backward', async () => {
    // Only c_attn targeted (regex form): the other modules take the matmul + bias path. With every other
    // lora_B = 0 in the all-targets model, both compute the same function, so logits, loss and the
    // c_attn gradients agree (dh = s·dy·B = 0, so dx = dy·Wᵀ exactly as the plain path).
    const only = await Gpt2LoraModel.create(ctx, loaded, { targetModules: String.raw`.*\.attn\.c_attn`, r, loraAlpha: alpha, B, T });
    try {
      expect(only.table.length).toBe(2 * loaded.config.n_layer);
      only.setLoraWeights(new Map(only.table.map((e) => [e.name, lora.get(e.name) as Float32Array])));
      const isAttn = (k: string) => k.includes('.attn.c_attn.');
      model.setLoraWeights(new Map([...lora].map(([k, v]) => [k, k.endsWith('lora_B.weight') && !isAttn(k) ? new Float32Array(v.length) : v])));
      expectAllClose(await only.forwardLogits(ids), await model.forwardLogits(ids), TOL.f32Paths, 'logits');
      const [a, b] = [(await only.step(ids, labels)).loss, (await model.step(ids, labels)).loss];
      expectAllClose([a], [b], TOL.loss, 'loss');
      const [ga, gb] = [await only.readGrads(), await model.readGrads()];
      for (const [name, g] of ga) expectAllClose(g, gb.get(name) as Float32Array, TOL.grads, name);
    } finally {
      only.destroy();
    }
  });
});

describe('PEFT target_modules', () => {
  it('list entries match by suffix after a dot; a string is a full regex match', () => {
    expect(isTargeted('transformer.h.0.attn.c_proj', ['c_proj'])).toBe(true);
    expect(isTargeted('transformer.h.0.mlp.c_proj', ['attn.c_proj'])).toBe(false);
    expect(isTargeted('transformer.h.10.attn.c_attn', ['0.attn.c_attn'])).toBe(false);
    expect(isTargeted('transformer.h.1.attn.c_attn', String.raw`.*\.h\.1\.attn\.c_attn`)).toBe(true);
    expect(isTargeted('transformer.h.1.attn.c_attn', 'c_attn')).toBe(false); // fullmatch, not search
  });

  it('lays out A (R, in) and B (out, R) at aligned offsets, in model order', async () => {
    const { loaded } = await loadFixtureOnce();
    const l = new ArenaLayout(256);
    const slots = layoutSlots(l, loraModules(loaded), { targetModules: String.raw`.*\.mlp\.c_(fc|proj)`, r: 2, loraAlpha: 4 }, 'GPT-2');
    expect(l.table.map((e) => [e.name, e.shape])).toEqual([0, 1].flatMap((i) => [
      [`base_model.model.transformer.h.${i}.mlp.c_fc.lora_A.weight`, [2, 48]],
      [`base_model.model.transformer.h.${i}.mlp.c_fc.lora_B.weight`, [192, 2]],
      [`base_model.model.transformer.h.${i}.mlp.c_proj.lora_A.weight`, [2, 192]],
      [`base_model.model.transformer.h.${i}.mlp.c_proj.lora_B.weight`, [48, 2]],
    ]));
    for (const e of l.table) expect(e.offset % 64).toBe(0);
    expect(slots.every((s) => s.scale === 2 && s.layout === 'conv1d')).toBe(true);
    expect(() => layoutSlots(new ArenaLayout(256), loraModules(loaded), { targetModules: ['q_proj'], r: 2, loraAlpha: 4 }, 'GPT-2')).toThrow(/matches no GPT-2 linear module/);
  });
});
