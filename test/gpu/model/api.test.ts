// The training surface both engines share (src/model/api.ts), on the tiny fixtures: setBaseWeight,
// evalLoss, per-tensor AdamW, gradNorm / scaleGrads / nonFiniteGrads, trainableEntries. The same
// checks run on Gpt2LoraModel and VitLoraModel.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedGpt2, LoadedVit } from '../../../src/io/hfModel';
import type { SafetensorsTensor } from '../../../src/io/safetensors';
import type { TrainableModel } from '../../../src/model/api';
import { Gpt2LoraModel } from '../../../src/model/gpt2/model';
import { referenceGpt2Logits } from '../../../src/model/gpt2/reference';
import { VitLoraModel } from '../../../src/model/vit/model';
import { referenceVitLogits } from '../../../src/model/vit/reference';
import { adamw } from '../../../src/ref/adamw';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';

const TOL = {
  /** GPU engine vs the CPU reference forward: F32 vs F32/F64, different summation orders (as gpt2/vit tests). */
  f32Paths: { atol: 1e-6, rtol: 1e-5 },
  /** gradnorm's two-pass F32 sum of ~10⁴ squares vs a Float64 sum: a few ulp of the norm. */
  norm: { atol: 0, rtol: 1e-5 },
  /**
   * One AdamW step, GPU (F32 arithmetic) vs src/ref/adamw (Float64 arithmetic, F32 storage) on the same
   * grads. At t = 1 every update is ≈ ±lr (m̂/√v̂ ≈ ±1), so the error scales with the largest lr
   * (0.16), not with the parameter: measured ≤ 6e-8 = 4 ulp of 0.16; the bound is ~13 ulp.
   */
  adamw: { atol: 2e-7, rtol: 1e-6 },
} satisfies Record<string, Tolerance>;

/** A copy of a loaded model whose canonical tensor `name` holds `data` instead. */
function replaced<T extends LoadedGpt2 | LoadedVit>(loaded: T, name: string, data: Float32Array): T {
  const t = loaded.tensors.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  const copy: SafetensorsTensor = { name: t.name, dtype: 'F32', shape: t.shape, raw: new Uint8Array(data.buffer), data, supported: true };
  return { ...loaded, tensors: new Map(loaded.tensors).set(name, copy) };
}

/** A perturbed copy of w: w + 0.05·sin(i), deterministic and clearly different. */
const perturb = (w: Float32Array) => w.map((v, i) => v + 0.05 * Math.sin(i + 1));

const bitsEqual = (a: Float32Array, b: Float32Array, what: string) => {
  expect(a.length, what).toBe(b.length);
  // Two NaNs with the same bits are a bug in both, not agreement.
  expect(a.findIndex(Number.isNaN), `${what}: first NaN`).toBe(-1);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const i = ua.findIndex((x, k) => x !== ub[k]);
  expect(i, `${what}: first differing element ${i}: ${a[i]} vs ${b[i]}`).toBe(-1);
};

interface Case<I> {
  model: TrainableModel<I> & { forwardLogits(x: I): Promise<Float32Array> };
  /** A second model built from `loaded` with the tensor behind `path` replaced; same trainables. */
  fromReplaced(w: Float32Array): Promise<TrainableModel<I> & { forwardLogits(x: I): Promise<Float32Array> }>;
  cpuLogits(w: Float32Array): ArrayLike<number>;
  path: string;
  baseW: Float32Array;
  input: I;
  labels: Int32Array;
  count: number;
  init: Map<string, Float32Array>;
}

function apiSuite<I>(title: string, setup: (ctx: GpuContext) => Promise<Case<I>>): void {
  describe(title, () => {
    let c: Case<I>;
    let ctx: GpuContext;
    beforeAll(async () => {
      ctx = await testContext();
      c = await setup(ctx);
    });

    const fresh = () => {
      c.model.setLoraWeights(c.init);
      c.model.resetOptimizer();
    };

    it('trainableEntries lists every trainable tensor with its shape, as readGrads names them', async () => {
      fresh();
      await c.model.step(c.input, c.labels);
      const grads = await c.model.readGrads();
      const entries = c.model.trainableEntries();
      expect(entries.map((e) => e.name)).toEqual([...grads.keys()]);
      for (const e of entries) expect(e.shape.reduce((a, b) => a * b, 1)).toBe(grads.get(e.name)!.length);
    });

    it('setBaseWeight gives exactly the logits of a model loaded with that weight, and the CPU reference\'s', async () => {
      fresh();
      const before = await c.model.forwardLogits(c.input);
      const w = perturb(c.baseW);
      c.model.setBaseWeight(c.path, w);
      try {
        const after = await c.model.forwardLogits(c.input);
        expect(after.some((v, i) => Math.abs(v - before[i]) > 1e-4), 'the new weight must change the logits').toBe(true);
        const other = await c.fromReplaced(w);
        try {
          other.setLoraWeights(c.init);
          bitsEqual(after, await other.forwardLogits(c.input), 'setBaseWeight vs loaded copy');
        } finally {
          other.destroy();
        }
        expectAllClose(after, c.cpuLogits(w), TOL.f32Paths, 'setBaseWeight vs CPU reference');
      } finally {
        c.model.setBaseWeight(c.path, c.baseW);
      }
      bitsEqual(await c.model.forwardLogits(c.input), before, 'restored weight');
    });

    it('setBaseWeight refuses unknown paths and wrong sizes, naming the path', () => {
      expect(() => c.model.setBaseWeight('no.such.module', c.baseW)).toThrow(/'no\.such\.module'/);
      expect(() => c.model.setBaseWeight(c.path.replace(/\.(\d+)\./, '.99.'), c.baseW)).toThrow(/\.99\./);
      expect(() => c.model.setBaseWeight(c.path, c.baseW.subarray(1))).toThrow(new RegExp(c.path.replace(/\./g, '\\.')));
    });

    it('evalLoss equals step\'s loss bit for bit, counts the targets and leaves the gradients alone', async () => {
      fresh();
      const { loss } = await c.model.step(c.input, c.labels);
      const grads = await c.model.readGrads();
      const e = await c.model.evalLoss(c.input, c.labels);
      bitsEqual(Float32Array.of(e.loss), Float32Array.of(loss), 'evalLoss vs step loss');
      expect(e.count).toBe(c.count);
      // Other labels give another loss; the gradients of the last step stay as they were.
      const other = await c.model.evalLoss(c.input, c.labels.map((y) => (y < 0 ? y : (y + 1) % 5)));
      expect(other.loss).not.toBe(e.loss);
      for (const [name, g] of await c.model.readGrads()) bitsEqual(g, grads.get(name)!, `grads after evalLoss: ${name}`);
    });

    it('adamwStep with per-tensor functions returning constants equals the number form bit for bit', async () => {
      const run = async (lr: number | ((n: string) => number), wd: number | ((n: string) => number)) => {
        fresh();
        for (let k = 0; k < 2; k++) {
          await c.model.step(c.input, c.labels);
          await c.model.adamwStep(lr, { weightDecay: wd });
        }
        return c.model.readLoraWeights();
      };
      const a = await run(0.01, 0.1);
      const b = await run(() => 0.01, () => 0.1);
      for (const [name, v] of a) bitsEqual(b.get(name)!, v, `adamw ${name}`);
    });

    it('adamwStep applies a per-tensor lr and weight decay (LoRA+ groups) as torch.optim.AdamW would', async () => {
      fresh();
      await c.model.step(c.input, c.labels);
      const grads = await c.model.readGrads();
      const params = await c.model.readLoraWeights();
      const isB = (n: string) => n.endsWith('lora_B.weight') || !n.includes('lora_');
      const lr = (n: string) => (isB(n) ? 0.16 : 0.01);
      const wd = (n: string) => (isB(n) ? 0 : 0.1);
      await c.model.adamwStep(lr, { weightDecay: wd, beta1: 0.8, beta2: 0.99, eps: 1e-6 });
      const got = await c.model.readLoraWeights();
      for (const [name, p] of params) {
        const exp = Float32Array.from(p), m = new Float32Array(p.length), v = new Float32Array(p.length);
        adamw(exp, m, v, grads.get(name)!, { n: p.length, offset: 0, lr: lr(name), weightDecay: wd(name), beta1: 0.8, beta2: 0.99, eps: 1e-6, t: 1 });
        expectAllClose(got.get(name)!, exp, TOL.adamw, `per-tensor adamw ${name}`);
      }
    });

    it('gradNorm is the L2 norm of readGrads; scaleGrads multiplies every gradient in F32', async () => {
      fresh();
      await c.model.step(c.input, c.labels);
      const grads = await c.model.readGrads();
      let sq = 0;
      for (const g of grads.values()) for (const x of g) sq += x * x;
      expectAllClose([await c.model.gradNorm()], [Math.sqrt(sq)], TOL.norm, 'gradNorm');
      const f = 0.3;
      c.model.scaleGrads(f);
      // No await between scaleGrads and the next submit: the scale must already be queued.
      const n2 = await c.model.gradNorm();
      for (const [name, g] of await c.model.readGrads()) bitsEqual(g, grads.get(name)!.map((x) => Math.fround(f) * x), `scaled ${name}`);
      expectAllClose([n2], [Math.fround(f) * Math.sqrt(sq)], TOL.norm, 'gradNorm after scale');
      expect(() => c.model.scaleGrads(Number.NaN)).toThrow(/not finite/);
    });

    it('initLora(seed) is a fresh PEFT adapter (B = 0, A seeded and reproducible); a task head is kept', async () => {
      fresh();
      c.model.initLora(7);
      const a = await c.model.readLoraWeights();
      c.model.initLora(8);
      c.model.initLora(7);
      const b = await c.model.readLoraWeights();
      for (const [name, v] of a) {
        bitsEqual(b.get(name)!, v, `initLora ${name}`);
        if (name.endsWith('lora_B.weight')) expect(v.every((x) => x === 0), name).toBe(true);
        else if (name.endsWith('lora_A.weight')) expect(v.some((x) => x !== c.init.get(name)![0]), name).toBe(true);
        else bitsEqual(v, c.init.get(name)!, `head kept: ${name}`);
      }
    });

    it('nonFiniteGrads counts NaN/Inf gradients (0 after a normal step; overflowed ones after scaling)', async () => {
      fresh();
      await c.model.step(c.input, c.labels);
      expect(await c.model.nonFiniteGrads()).toBe(0);
      const grads = await c.model.readGrads();
      const a = 3e38;
      c.model.scaleGrads(a);
      c.model.scaleGrads(a);
      let expected = 0;
      const fa = Math.fround(a);
      for (const g of grads.values()) for (const x of g) if (!Number.isFinite(Math.fround(Math.fround(x * fa) * fa))) expected++;
      expect(expected).toBeGreaterThan(0);
      expect(await c.model.nonFiniteGrads()).toBe(expected);
    });
  });
}

apiSuite<Uint32Array>('GPT-2 training API', async (ctx) => {
  const f = await loadFixture('gpt2_tiny', 'gpt2');
  const B = Number(f.meta('B')), T = Number(f.meta('T')), r = Number(f.meta('lora_r')), scale = Number(f.meta('lora_alpha')) / r;
  const targetModules = f.meta('target_modules').split(',');
  const opts = { targetModules, r, scale, B, T };
  const model = await Gpt2LoraModel.create(ctx, f.loaded, opts);
  const init = f.lora();
  model.setLoraWeights(init);
  const input = Uint32Array.from(f.state.get('input_ids').data);
  const labels = Int32Array.from(f.state.get('labels').data);
  const name = 'h.1.mlp.c_fc.weight';
  const refLora = new Map(model.parts.slots.map((s) => [s.path, { A: init.get(s.a.name)!, B: init.get(s.b.name)!, R: s.R, scale: s.scale }]));
  return {
    model, init, input, labels, path: 'transformer.h.1.mlp.c_fc', baseW: f.loaded.tensors.get(name)!.data,
    count: labels.filter((y) => y !== -100).length,
    fromReplaced: (w) => Gpt2LoraModel.create(ctx, replaced(f.loaded, name, w), opts),
    cpuLogits: (w) => referenceGpt2Logits(replaced(f.loaded, name, w), input, B, T, refLora),
  };
});

apiSuite<Float32Array>('ViT training API', async (ctx) => {
  const f = await loadFixture('vit_tiny', 'vit');
  const r = Number(f.meta('lora_r')), scale = Number(f.meta('lora_alpha')) / r;
  const opts = {
    targetModules: f.meta('target_modules').split(','), r, scale,
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  };
  const model = await VitLoraModel.create(ctx, f.loaded, opts);
  const init = f.lora();
  for (const n of ['classifier.weight', 'classifier.bias']) init.set(n, f.loaded.tensors.get(n)!.data);
  model.setLoraWeights(init);
  const input = f.state.get('pixel_values').data;
  const labels = Int32Array.from(f.state.get('labels').data);
  const name = 'encoder.layer.0.attention.attention.value.weight';
  const ref = new Map<string, { A: Float32Array; B: Float32Array; R: number; scale: number }>();
  for (const [k, A] of init) {
    const m = /^base_model\.model\.(.*)\.lora_A\.weight$/.exec(k);
    if (m) ref.set(m[1], { A, B: init.get(k.replace('lora_A', 'lora_B'))!, R: r, scale });
  }
  return {
    model, init, input, labels, path: 'vit.encoder.layer.0.attention.attention.value', baseW: f.loaded.tensors.get(name)!.data,
    count: labels.length,
    fromReplaced: async (w) => VitLoraModel.create(ctx, replaced(f.loaded, name, w), opts),
    cpuLogits: (w) => referenceVitLogits(replaced(f.loaded, name, w), input, labels.length, ref),
  };
});
