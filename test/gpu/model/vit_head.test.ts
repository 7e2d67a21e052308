// A new ViT classifier head (loaded.head.newHead): a ViTModel-style checkpoint (bare names, a pooler,
// no classifier) built from the vit_tiny fixture and loaded through loadModelDir, and the fixture
// itself asked for another class count. The engine creates an nn.Linear-initialised head, trains
// it, and its gradient matches Float64 central differences of the CPU-reference loss.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedVit, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { writeSafetensors } from '../../../src/io/safetensors';
import { VitLoraModel, type VitLoraOptions } from '../../../src/model/vit/model';
import { type VitReferenceLora, referenceVitLogits } from '../../../src/model/vit/reference';
import { DEFAULT_HEAD_SEED, initClassifier } from '../../../src/model/vit/trainable';
import { type Tolerance, expectAllClose } from '../../helpers/allclose';
import { numericGrad } from '../../helpers/finiteDiff';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';

const TOL = {
  /**
   * GPU F32 gradient vs Float64 central differences (h = 1e-5) of the Float64 CPU-reference loss: the
   * differences' truncation and rounding error is < 1e-9 here, so the bound is the engine's F32 error,
   * the same as vit.test.ts's grads bound against PyTorch.
   */
  headGrad: { atol: 1e-7, rtol: 1e-4 },
  /** GPU engine vs the Float64 CPU reference (as vit.test.ts f32Paths). */
  f32Paths: { atol: 1e-6, rtol: 1e-5 },
} satisfies Record<string, Tolerance>;

const NEW_CLASSES = 3;

/** The vit_tiny fixture re-saved as a ViTModel checkpoint: no `vit.` prefix, a pooler, no classifier. */
async function vitModelCheckpoint(src: LoadedVit): Promise<LoadedVit> {
  const C = src.config.hidden_size;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of src.tensors) if (!name.startsWith('classifier.')) tensors.set(name, { shape: [...t.shape], data: t.data });
  tensors.set('pooler.dense.weight', { shape: [C, C], data: new Float32Array(C * C).fill(0.01) });
  tensors.set('pooler.dense.bias', { shape: [C], data: new Float32Array(C) });
  const cfg = await (await fetch('/test/fixtures/vit_tiny/config.json')).json() as Record<string, unknown>;
  cfg.architectures = ['ViTModel'];
  const files = new Map<string, Uint8Array | string>([
    ['config.json', JSON.stringify(cfg)], ['model.safetensors', writeSafetensors(tensors)],
  ]);
  const loaded = await loadModelDir(sourceFromMap(files), { numClasses: NEW_CLASSES });
  if (loaded.kind !== 'vit') throw new Error('expected a ViT');
  return loaded;
}

describe('ViT with a new classifier head', () => {
  let ctx: GpuContext;
  let fixture: Awaited<ReturnType<typeof loadFixture<'vit'>>>;
  let loaded: LoadedVit;
  let opts: VitLoraOptions;
  let pixels: Float32Array;

  beforeAll(async () => {
    ctx = await testContext();
    fixture = await loadFixture('vit_tiny', 'vit');
    loaded = await vitModelCheckpoint(fixture.loaded);
    pixels = fixture.state.get('pixel_values').data;
    opts = {
      targetModules: fixture.meta('target_modules').split(','), r: Number(fixture.meta('lora_r')),
      scale: Number(fixture.meta('lora_alpha')) / Number(fixture.meta('lora_r')), adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    };
  });

  it('a ViTModel checkpoint gets a seeded nn.Linear-style head of the requested class count', async () => {
    expect(loaded.head).toMatchObject({ newHead: true, reason: 'no-classifier', numClasses: NEW_CLASSES });
    const model = await VitLoraModel.create(ctx, loaded, opts);
    try {
      expect(model.numLabels).toBe(NEW_CLASSES);
      const C = loaded.config.hidden_size;
      const entries = model.trainableEntries();
      expect(entries.slice(-2)).toEqual([{ name: 'classifier.weight', shape: [NEW_CLASSES, C] }, { name: 'classifier.bias', shape: [NEW_CLASSES] }]);
      const p = await model.readParams();
      const w = p.get('classifier.weight')!, b = p.get('classifier.bias')!;
      const expected = initClassifier(C, NEW_CLASSES, DEFAULT_HEAD_SEED);
      expect(w).toEqual(expected.weight);
      expect(b).toEqual(expected.bias);
      // U(−1/√C, 1/√C), spread over the range (not a constant or a tiny-std normal).
      const bound = 1 / Math.sqrt(C);
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      expect(b.every((x) => Math.abs(x) <= bound) && b.some((x) => x !== 0)).toBe(true);
      // Another seed, another head.
      const other = await VitLoraModel.create(ctx, loaded, { ...opts, headSeed: 99 });
      try {
        expect((await other.readParams()).get('classifier.weight')).not.toEqual(w);
      } finally {
        other.destroy();
      }
      // B = 0: logits are the CPU reference's with the new head on the base backbone.
      const B = pixels.length / (3 * 8 * 8);
      expectAllClose(await model.forwardLogits(pixels), referenceVitLogits(loaded, pixels, B, new Map(), { weight: w, bias: b }), TOL.f32Paths, 'new-head logits');
    } finally {
      model.destroy();
    }
  });

  it('the checkpoint asked for another class count also gets a new head', async () => {
    const files = new Map<string, Uint8Array>();
    for (const f of ['config.json', 'model.safetensors']) files.set(f, new Uint8Array(await (await fetch(`/test/fixtures/vit_tiny/${f}`)).arrayBuffer()));
    const other = await loadModelDir(sourceFromMap(files), { numClasses: 7 });
    if (other.kind !== 'vit') throw new Error('expected a ViT');
    expect(other.head).toMatchObject({ newHead: true, reason: 'class-count', numClasses: 7 });
    const model = await VitLoraModel.create(ctx, other, opts);
    try {
      expect(model.numLabels).toBe(7);
      expect((await model.forwardLogits(pixels)).length).toBe(2 * 7);
    } finally {
      model.destroy();
    }
  });

  it('the head\'s gradient (with non-zero LoRA) matches Float64 central differences of the CPU-reference loss', async () => {
    const model = await VitLoraModel.create(ctx, loaded, opts);
    try {
      const lora = fixture.lora();
      model.setLoraWeights(lora);
      const labels = Int32Array.of(2, 0);
      await model.step(pixels, labels);
      const grads = await model.readGrads();
      const params = await model.readParams();
      const r = opts.r, scale = opts.scale;
      const ref: VitReferenceLora = new Map();
      for (const [k, A] of lora) {
        const m = /^base_model\.model\.(.*)\.lora_A\.weight$/.exec(k);
        if (m) ref.set(m[1], { A, B: lora.get(k.replace('lora_A', 'lora_B'))!, R: r, scale });
      }
      const W = params.get('classifier.weight')!, b = params.get('classifier.bias')!;
      const nW = W.length, B = labels.length, NL = NEW_CLASSES;
      // Features are fixed while only the head moves: the reference loss as a function of [W; b].
      const loss = (x: Float64Array): number => {
        const logits = referenceVitLogits(loaded, pixels, B, ref, { weight: x.subarray(0, nW), bias: x.subarray(nW) });
        let s = 0;
        for (let i = 0; i < B; i++) {
          const row = logits.subarray(i * NL, (i + 1) * NL);
          const m = Math.max(...row);
          s += Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m - row[labels[i]];
        }
        return s / B;
      };
      const x = new Float64Array(nW + NL);
      x.set(W);
      x.set(b, nW);
      const g = numericGrad(loss, x, 1e-5);
      expectAllClose(grads.get('classifier.weight')!, g.subarray(0, nW), TOL.headGrad, 'grad classifier.weight');
      expectAllClose(grads.get('classifier.bias')!, g.subarray(nW), TOL.headGrad, 'grad classifier.bias');
    } finally {
      model.destroy();
    }
  });

  it('trains on a toy task: the loss falls over a few AdamW steps', async () => {
    const model = await VitLoraModel.create(ctx, loaded, { ...opts, targetModules: ['query', 'value'] });
    try {
      // Six images whose class is which third of the pixel range they are brightest in.
      const n = 6, per = 3 * 8 * 8;
      const px = new Float32Array(n * per);
      const labels = Int32Array.from({ length: n }, (_, i) => i % NEW_CLASSES);
      for (let i = 0; i < n; i++) for (let j = 0; j < per; j++) px[i * per + j] = Math.sin(j * 0.37 + i) * 0.3 + (labels[i] - 1) * 0.6;
      const losses: number[] = [];
      for (let k = 0; k < 15; k++) {
        losses.push((await model.step(px, labels)).loss);
        await model.adamwStep(0.02);
      }
      const final = (await model.evalLoss(px, labels)).loss;
      expect(final).toBeLessThan(0.3 * losses[0]);
      expect(losses.every(Number.isFinite)).toBe(true);
    } finally {
      model.destroy();
    }
  });
});
