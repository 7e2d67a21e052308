// ViT classification output (src/model/vit/classify.ts) on the vit_tiny fixture: the engine's
// logits → softmax → top-k with id2label names, checked against the fixture's PyTorch logits.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import type { LoadedVit } from '../../../src/io/hfModel';
import type { SafetensorsFile } from '../../../src/io/safetensors';
import { classifyImages, softmaxRows, topKPredictions } from '../../../src/model/vit/classify';
import { VitLoraModel } from '../../../src/model/vit/model';
import { loadFixture } from '../../helpers/fixtures';
import { testContext } from '../../helpers/gpu';


/** Probabilities are Float64 sums of NL ≤ 5 terms: they add to 1 within a few ulp. */
const SUM_TOL = 1e-12;
/** Engine (F32) vs fixture (float64 → F32) probabilities: vit.test.ts bounds the logits by 1e-6 + 1e-5·|x|. */
const PROB_TOL = 1e-5;


const argmaxRow = (x: Float32Array, r: number, n: number) => {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[r * n + i] > x[r * n + best]) best = i;
  return best;
};

describe('ViT classify: softmax → top-k labels', () => {
  let ctx: GpuContext;
  let loaded: LoadedVit;
  let state: SafetensorsFile;
  let model: VitLoraModel;

  beforeAll(async () => {
    ctx = await testContext();
    const fx = await loadFixture('vit_tiny', 'vit');
    ({ loaded, state } = fx);
    const meta = fx.meta;
    const [beta1, beta2] = meta('betas').split(',').map(Number);
    model = await VitLoraModel.create(ctx, loaded, {
      targetModules: meta('target_modules').split(','), r: Number(meta('lora_r')), scale: Number(meta('lora_alpha')) / Number(meta('lora_r')),
      adamw: { beta1, beta2, eps: Number(meta('eps')), weightDecay: Number(meta('weight_decay')) },
    });
    model.setLoraWeights(fx.lora());
  });

  it('top-1 of the engine equals argmax of the fixture logits; probabilities sum to 1 and match the fixture', async () => {
    const logits = state.get('logits').data;
    const NL = loaded.config.num_labels;
    const B = logits.length / NL;
    const preds = await classifyImages(model, state.get('pixel_values').data, NL);
    expect(preds).toHaveLength(B);
    const expected = softmaxRows(logits, NL);
    for (let b = 0; b < B; b++) {
      const row = preds[b];
      expect(row).toHaveLength(NL);
      const top = argmaxRow(logits, b, NL);
      expect(row[0].id, `image ${b}`).toBe(top);
      expect(row[0].label).toBe(loaded.config.id2label[top]);
      expect(row[0].label).toBe(`label_${top}`); // the fixture's config.json names
      expect(Math.abs(row.reduce((s, p) => s + p.prob, 0) - 1)).toBeLessThan(SUM_TOL);
      for (let i = 1; i < NL; i++) expect(row[i].prob).toBeLessThanOrEqual(row[i - 1].prob);
      for (const p of row) expect(Math.abs(p.prob - expected[b * NL + p.id]), `image ${b} class ${p.id}`).toBeLessThan(PROB_TOL);
    }
  });

  it('k limits the list; the softmax is stable for large logits; ties go to the lower id', () => {
    const names = ['a', 'b', 'c', 'd'];
    const logits = Float32Array.from([1000, 999, 1000, -1000, 0, 0, 1, 0]);
    const [r0, r1] = topKPredictions(logits, names, 2);
    expect(r0.map((p) => p.label)).toEqual(['a', 'c']);
    expect(r0[0].prob).toBeCloseTo(1 / (2 + Math.exp(-1)), 12);
    expect(r1.map((p) => p.id)).toEqual([2, 0]);
    expect(r1[0].prob).toBeCloseTo(Math.E / (3 + Math.E), 12);
    expect(() => topKPredictions(logits.subarray(1), names)).toThrow(/whole number/);
    expect(() => topKPredictions(logits, names, 0)).toThrow(/k=0/);
  });
});
