// Activation recomputation (src/model/block.ts, StackActs.recompute): the backward runs each block's
// forward again from its input before the block's backward, into one block's shared activations. Same
// launches on the same inputs, so the loss and every gradient must be BIT-identical to the engine that
// holds every block's activations: GPT-2 (the PyTorch fixture model), a Qwen3-style Llama (GQA, q/k norms,
// rotary), ViT; LoRA, DoRA, and LoRA dropout, whose masks the recomputed forward must replay exactly
// (two steps: a different mask each, each replayed).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { VitLoraModel } from '../../../src/model/vit/model';
import type { TrainableModel } from '../../../src/model/api';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';
import { randomInts, uniformF32 } from '../../helpers/random';
import { sourceOf, tinyLlama } from './llamaTiny';

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

type Engine<I> = TrainableModel<I> & { dropoutStep: number; destroy(): void };

/** Random values for every trainable (B ≠ 0, so every adapter carries signal into the gradients). */
async function randomTrainables<I>(m: Engine<I>, seed: number): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const [k, [name, v]] of [...await m.readLoraWeights()].entries()) {
    // DoRA magnitudes stay near their init (row norms) so the normalisation is well conditioned.
    values.set(name, name.endsWith('lora_magnitude_vector') ? v.map((x, i) => x * (1 + 0.1 * Math.sin(i + k))) : uniformF32(v.length, seed + k, -0.5, 0.5));
  }
  return values;
}

/** Steps both engines on the same inputs and trainables; asserts the same loss and gradient bits. */
async function expectSameSteps<I>(plain: Engine<I>, recomputed: Engine<I>, input: I, labels: Int32Array, steps: number): Promise<void> {
  const values = await randomTrainables(plain, 11);
  plain.setLoraWeights(values);
  recomputed.setLoraWeights(values);
  let previous: number | undefined;
  for (let t = 0; t < steps; t++) {
    plain.dropoutStep = t;
    recomputed.dropoutStep = t;
    const a = await plain.step(input, labels), b = await recomputed.step(input, labels);
    expect(Number.isFinite(a.loss)).toBe(true);
    expect(b.loss).toBe(a.loss);
    const ga = await plain.readGrads(), gb = await recomputed.readGrads();
    expect([...gb.keys()]).toEqual([...ga.keys()]);
    let nonzero = 0;
    for (const [name, g] of ga) {
      expect(bits(gb.get(name) as Float32Array), name).toEqual(bits(g));
      if (g.some((x) => x !== 0)) nonzero++;
    }
    // Every adapter (of every block) gets a gradient: a block whose recomputation read another block's
    // activations would show as different bits above.
    expect(nonzero).toBe(ga.size);
    // With dropout the second step draws other masks: its loss differs from the first.
    if (previous !== undefined) expect(a.loss).not.toBe(previous);
    previous = a.loss;
  }
}

describe('activation recomputation gives bit-identical gradients', () => {
  let ctx: GpuContext;
  beforeAll(async () => { ctx = await testContext(); });

  describe('GPT-2 (fixture model, B=2, T=5)', () => {
    const B = 2, T = 5;
    const targetModules = ['c_attn', 'c_proj', 'c_fc'];
    const cases: [string, { useDora?: boolean; loraDropout?: number }, number][] = [
      ['LoRA', {}, 1], ['DoRA', { useDora: true }, 1], ['LoRA dropout 0.2, two steps', { loraDropout: 0.2 }, 2],
    ];
    for (const [name, o, steps] of cases) {
      it(name, async () => {
        const { loaded } = await loadFixture('gpt2_tiny', 'gpt2');
        const V = loaded.config.vocab_size;
        const opts = { targetModules, r: 3, scale: 2, B, T, seed: 5, dropoutSeed: 9, ...o };
        const plain = await Gpt2LoraModel.create(ctx, loaded, opts);
        const recomputed = await Gpt2LoraModel.create(ctx, loaded, { ...opts, recompute: true });
        try {
          expect(recomputed.parts.acts.recompute).toBe(true);
          // One block's activations, shared: every layer entry is the same object.
          expect(new Set(recomputed.parts.acts.layers).size).toBe(1);
          expect(new Set(plain.parts.acts.layers).size).toBe(loaded.config.n_layer);
          const ids = randomInts(B * T, 3, V), labels = Int32Array.from(randomInts(B * T, 4, V));
          labels[2] = -100;
          await expectSameSteps(plain, recomputed, ids, labels, steps);
        } finally {
          plain.destroy();
          recomputed.destroy();
        }
      });
    }
  });

  describe('Qwen3-style Llama (GQA 2, q/k norms, rotary; 2 blocks, B=2, T=4)', () => {
    const B = 2, T = 4;
    const all = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const cases: [string, { useDora?: boolean; loraDropout?: number }, number][] = [
      ['LoRA', {}, 1], ['DoRA', { useDora: true }, 1], ['LoRA dropout 0.2, two steps', { loraDropout: 0.2 }, 2],
    ];
    for (const [name, o, steps] of cases) {
      it(name, async () => {
        const m = tinyLlama({ model_type: 'qwen3', hidden_size: 10, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, qkNorm: true });
        const opts = { targetModules: all, r: 2, scale: 2, B, T, seed: 3, dropoutSeed: 7, ...o };
        const plain = await LlamaLoraModel.create(ctx, sourceOf(m), opts);
        const recomputed = await LlamaLoraModel.create(ctx, sourceOf(m), { ...opts, recompute: true });
        try {
          expect(new Set(recomputed.parts.acts.layers).size).toBe(1);
          const ids = randomInts(B * T, 5, m.V), labels = Int32Array.from(randomInts(B * T, 6, m.V));
          await expectSameSteps(plain, recomputed, ids, labels, steps);
        } finally {
          plain.destroy();
          recomputed.destroy();
        }
      });
    }
  });

  it('ViT (fixture model) with LoRA dropout, two steps', async () => {
    const { loaded, state } = await loadFixture('vit_tiny', 'vit');
    const pixels = state.get('pixel_values').data, labels = Int32Array.from(state.get('labels').data);
    const opts = {
      targetModules: ['query', 'value', 'output.dense'], r: 2, scale: 2, seed: 1, loraDropout: 0.2, dropoutSeed: 4,
      adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    };
    const plain = await VitLoraModel.create(ctx, loaded, opts);
    const recomputed = await VitLoraModel.create(ctx, loaded, { ...opts, recompute: true });
    try {
      await expectSameSteps(plain, recomputed, pixels, labels, 2);
    } finally {
      plain.destroy();
      recomputed.destroy();
    }
  });
});
