// LoRA dropout (PEFT lora_dropout: y = base(x) + s·B·A·dropout(x)) on both engines against the PyTorch
// fixtures gpt2_tiny_dropout_state / vit_tiny_dropout_state, whose masks gen_fixtures.py draws from the
// engine's own counter-based stream (Philox key = dropout seed, counter (0, t·S + k, 0, 0) for step t,
// slot k; Random123 known-answer vectors checked there): the training loss and every gradient of step 0,
// and 5 AdamW steps (a new mask each step). Eval passes never drop; masks repeat for the same step.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type SafetensorsFile, readSafetensors } from '../../../src/io/safetensors';
import type { TrainableModel } from '../../../src/model/api';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { VitLoraModel } from '../../../src/model/vit/model';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { REGEN, loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';

/**
 * The LoRA whole-step bounds (gpt2.test.ts, vit.test.ts), same reasons: F32 engine vs float64 PyTorch.
 * The masks are identical (integer Philox words); the kept values differ only by the F32 rounding of
 * 1/(1 − p) (≤ 3e-8 relative), far inside these bounds.
 */
const TOL = {
  logits: { atol: 1e-6, rtol: 1e-5 },
  loss: { atol: 0, rtol: 2e-6 },
  grads: { atol: 1e-7, rtol: 1e-4 },
  adamwLosses: { atol: 0, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;

async function loadState(name: string): Promise<SafetensorsFile> {
  const res = await fetch(`/test/fixtures/${name}_state.safetensors`);
  if (!res.ok) throw new Error(`fetch ${name}: HTTP ${res.status}; regenerate with: ${REGEN}`);
  const state = readSafetensors(new Uint8Array(await res.arrayBuffer()), `${name}_state.safetensors`);
  if (state.metadata?.get('magic') !== 'lorasc-fixture' || !state.metadata.get('lora_dropout')) {
    throw new Error(`${name}_state.safetensors is stale or foreign; regenerate with: ${REGEN}`);
  }
  return state;
}

const meta = (s: SafetensorsFile, k: string) => {
  const v = s.metadata?.get(k);
  if (v === undefined) throw new Error(`fixture metadata has no ${k}; regenerate with: ${REGEN}`);
  return v;
};

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

interface Case<I> {
  model: TrainableModel<I> & { dropoutStep: number; forwardLogits(x: I): Promise<Float32Array> };
  state: SafetensorsFile;
  /** The plain LoRA fixture with the same adapter and inputs (no dropout). */
  plain: SafetensorsFile;
  input: I;
  labels: Int32Array;
  init: Map<string, Float32Array>;
  rejectDora(): unknown;
}

function dropoutSuite<I>(title: string, setup: (ctx: GpuContext) => Promise<Case<I>>): void {
  describe(title, () => {
    let c: Case<I>;
    beforeAll(async () => {
      c = await setup(await testContext());
    });

    it('step 0: the training loss and every gradient match the fixture\'s dropped forward', async () => {
      c.model.setLoraWeights(c.init);
      c.model.dropoutStep = 0;
      const { loss } = await c.model.step(c.input, c.labels);
      expect(c.model.dropoutStep).toBe(1);
      expectAllClose([loss], c.state.get('loss').data, TOL.loss, 'loss');
      // The dropout really changes the loss: the plain LoRA loss differs.
      expect(Math.abs(loss - c.plain.get('loss').data[0])).toBeGreaterThan(1e-4);
      for (const [name, g] of await c.model.readGrads()) expectAllClose(g, c.state.get(`grad.${name}`).data, TOL.grads, `grad.${name}`);
    });

    it('eval passes never drop: forwardLogits and evalLoss are the plain LoRA model\'s', async () => {
      c.model.setLoraWeights(c.init);
      expectAllClose(await c.model.forwardLogits(c.input), c.plain.get('logits').data, TOL.logits, 'eval logits');
      expectAllClose([(await c.model.evalLoss(c.input, c.labels)).loss], c.plain.get('loss').data, TOL.loss, 'eval loss');
    });

    it('the mask is a function of the step: the same step repeats bit for bit, the next differs', async () => {
      const run = async (t: number) => {
        c.model.setLoraWeights(c.init);
        c.model.dropoutStep = t;
        const { loss } = await c.model.step(c.input, c.labels);
        return { loss, grads: await c.model.readGrads() };
      };
      const a = await run(3), b = await run(3), d = await run(4);
      expect(b.loss).toBe(a.loss);
      for (const [name, g] of a.grads) expect(bits(b.grads.get(name)!)).toEqual(bits(g));
      expect(d.loss).not.toBe(a.loss);
    });

    it('the losses of 5 AdamW steps (a fresh mask each step) match torch.optim.AdamW', async () => {
      c.model.setLoraWeights(c.init);
      c.model.resetOptimizer();
      c.model.dropoutStep = 0;
      const expected = c.state.get('adamw_losses').data;
      const losses: number[] = [];
      for (let k = 0; k < expected.length; k++) {
        losses.push((await c.model.step(c.input, c.labels)).loss);
        await c.model.adamwStep(Number(meta(c.state, 'lr')));
      }
      expectAllClose(losses, expected, TOL.adamwLosses, 'adamw losses');
    });

    it('refuses dropout together with DoRA', async () => {
      await expect(Promise.resolve().then(() => c.rejectDora())).rejects.toThrow(/loraDropout with useDora/);
    });
  });
}

dropoutSuite<Uint32Array>('GPT-2 + LoRA dropout vs PyTorch fixture', async (ctx) => {
  const fx = await loadFixture('gpt2_tiny', 'gpt2');
  const state = await loadState('gpt2_tiny_dropout');
  const opts = {
    targetModules: meta(state, 'target_modules').split(','), r: Number(meta(state, 'lora_r')),
    scale: Number(meta(state, 'lora_alpha')) / Number(meta(state, 'lora_r')), B: Number(meta(state, 'B')), T: Number(meta(state, 'T')),
    loraDropout: Number(meta(state, 'lora_dropout')), dropoutSeed: Number(meta(state, 'dropout_seed')),
  };
  return {
    model: await Gpt2LoraModel.create(ctx, fx.loaded, opts),
    state, plain: fx.state, init: fx.lora(),
    input: Uint32Array.from(state.get('input_ids').data), labels: Int32Array.from(state.get('labels').data),
    rejectDora: () => Gpt2LoraModel.create(ctx, fx.loaded, { ...opts, useDora: true }),
  };
});

dropoutSuite<Float32Array>('ViT + LoRA dropout vs PyTorch fixture', async (ctx) => {
  const fx = await loadFixture('vit_tiny', 'vit');
  const state = await loadState('vit_tiny_dropout');
  const [beta1, beta2] = meta(state, 'betas').split(',').map(Number);
  const opts = {
    targetModules: meta(state, 'target_modules').split(','), r: Number(meta(state, 'lora_r')),
    scale: Number(meta(state, 'lora_alpha')) / Number(meta(state, 'lora_r')),
    loraDropout: Number(meta(state, 'lora_dropout')), dropoutSeed: Number(meta(state, 'dropout_seed')),
    adamw: { beta1, beta2, eps: Number(meta(state, 'eps')), weightDecay: Number(meta(state, 'weight_decay')) },
  };
  const init = fx.lora();
  for (const n of ['classifier.weight', 'classifier.bias']) init.set(n, fx.loaded.tensors.get(n)!.data);
  return {
    model: await VitLoraModel.create(ctx, fx.loaded, opts),
    state, plain: fx.state, init,
    input: state.get('pixel_values').data, labels: Int32Array.from(state.get('labels').data),
    rejectDora: () => VitLoraModel.create(ctx, fx.loaded, { ...opts, useDora: true }),
  };
});
