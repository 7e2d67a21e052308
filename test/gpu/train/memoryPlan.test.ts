// The memory plan (src/train/memoryPlan.ts) against what the engine really allocates, as the context
// tracks it (src/gpu/allocations.ts): GPT-2 (the fixture model) and a Qwen3 model (the BF16 fixture
// folder, q/k norms), with and without recomputation, LoRA with dropout and DoRA. Every exact category
// (weights, trainables, gradients, optimizer, activations, workspace) must equal the plan to the byte;
// the peak over a whole training step, gradient read, AdamW step and checkpoint reads must stay within
// the plan's total, and the plan may exceed that peak only by its stated allowances (launch uniforms,
// one readback) — so it is neither short nor loose.
import { beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_CATEGORIES, type ByCategory } from '../../../src/gpu/allocations';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedModel, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { resolveConfig } from '../../../src/train/config';
import { createEngine, engineOptions } from '../../../src/train/engine';
import { targetedModules } from '../../../src/train/modules';
import type { EngineModel } from '../../../src/train/trainer';
import { checkFit, planTraining, trainingT } from '../../../src/train/memoryPlan';
import { testContext } from '../../helpers/gpu';
import { randomInts } from '../../helpers/random';

async function loadDir(name: string): Promise<LoadedModel> {
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors']) {
    const res = await fetch(`/test/fixtures/${name}/${f}`);
    if (!res.ok) throw new Error(`fetch ${name}/${f}: HTTP ${res.status}`);
    files.set(f, new Uint8Array(await res.arrayBuffer()));
  }
  return loadModelDir(sourceFromMap(files));
}

const EXACT = ['weights', 'trainables', 'gradients', 'optimizer', 'activations', 'workspace'] as const;
const diff = (a: ByCategory, b: ByCategory) => Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, a[c] - b[c]])) as ByCategory;

describe('the memory plan against the tracked allocations', () => {
  let ctx: GpuContext;
  beforeAll(async () => { ctx = await testContext(); });

  const cases: [string, string, Record<string, unknown>][] = [
    ['GPT-2', 'gpt2_tiny', { targetModules: ['c_attn', 'c_proj', 'c_fc'], batchSize: 2, seqLen: 8, loraDropout: 0.1 }],
    ['GPT-2 DoRA', 'gpt2_tiny', { targetModules: ['c_attn', 'c_fc'], batchSize: 2, seqLen: 8, useDora: true }],
    ['Qwen3 (LoRASC: F32 frozen weights)', 'llama_qwen3_tiny', { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], batchSize: 2, seqLen: 8, loraDropout: 0.1 }],
    ['Qwen3 (LoRA: BF16 frozen weights packed)', 'llama_qwen3_tiny', { method: 'lora', targetModules: ['q_proj', 'v_proj', 'down_proj'], batchSize: 2, seqLen: 8 }],
  ];
  for (const [name, dir, partial] of cases) {
    for (const recompute of [false, true]) {
      it(`${name}, recompute ${recompute ? 'on' : 'off'}: exact categories, peak within the plan`, async () => {
        const loaded = await loadDir(dir);
        const c = resolveConfig({ ...partial, recompute, r: 4 });
        const plan = planTraining(loaded, c, ctx.limits);
        await ctx.finish(); // the context's finish probe exists before the baseline
        const before = { ...ctx.allocations.current }, beforeTotal = ctx.allocations.total;
        ctx.allocations.resetPeak();
        const T = trainingT(loaded, c);
        if (loaded.kind === 'vit') throw new Error('a language model fixture');
        const engine = await createEngine(ctx, loaded, engineOptions(c, targetedModules(loaded, c.targetModules), T)) as EngineModel<Uint32Array>;
        try {
          const held = diff(ctx.allocations.current, before);
          for (const k of EXACT) expect(held[k], k).toBe(plan.bytes[k]);
          const V = loaded.config.vocab_size;
          const ids = randomInts(c.batchSize * T, 1, V), labels = Int32Array.from(randomInts(c.batchSize * T, 2, V));
          for (let s = 0; s < 2; s++) {
            await engine.step(ids, labels);
            await engine.gradNorm();
            await engine.nonFiniteGrads();
            await engine.adamwStep(1e-3);
          }
          await engine.readGrads();
          await engine.readOptimizerState();
          await engine.readLoraWeights();
          await ctx.finish();
          const peak = ctx.allocations.peakTotal - beforeTotal;
          const peakBy = diff(ctx.allocations.peak, before);
          // Exact categories never grew past the plan; the bounded ones stayed inside their allowances.
          for (const k of EXACT) expect(peakBy[k], k).toBe(plan.bytes[k]);
          expect(peakBy.uniforms).toBeLessThanOrEqual(plan.bytes.uniforms);
          expect(peakBy.readback).toBeLessThanOrEqual(plan.bytes.readback);
          expect(peak).toBeLessThanOrEqual(plan.total);
          // Not loose: the plan's only slack is the uniforms' and readback allowances.
          expect(plan.total - peak).toBeLessThanOrEqual(plan.bytes.uniforms + plan.bytes.readback);
          // Recomputation holds fewer activations than holding every block (two blocks here).
          if (recompute) expect(plan.bytes.activations).toBeLessThan(plan.activationsOther);
          else expect(plan.bytes.activations).toBeGreaterThan(plan.activationsOther);
          // The packed case holds its 2-D weights at 2 bytes: under the F32 plan of the same run.
          if (c.method === 'lora' && loaded.kind === 'llama') expect(plan.bytes.weights).toBeLessThan(planTraining(loaded, c, ctx.limits, 'f32').bytes.weights);
          console.log(`${name} recompute=${recompute}: plan ${plan.total} B, peak ${peak} B, uniforms ${peakBy.uniforms}/${plan.bytes.uniforms}, readback ${peakBy.readback}/${plan.bytes.readback}`);
        } finally {
          engine.destroy();
        }
        // Everything the engine held is given back.
        const left = diff(ctx.allocations.current, before);
        for (const k of EXACT) expect(left[k], `${k} after destroy`).toBe(0);
      });
    }
  }

  it('refuses a run whose largest buffer cannot be bound, naming what to change', async () => {
    const loaded = await loadDir('gpt2_tiny');
    const c = resolveConfig({ targetModules: ['c_attn'], batchSize: 64, seqLen: 32, r: 4 });
    const o = { B: c.batchSize, T: trainingT(loaded, c), r: 4, targets: targetedModules(loaded, c.targetModules).map((m) => m.path), useDora: false, loraDropout: 0, recompute: false };
    const plan = planTraining(loaded, c, ctx.limits);
    // A device that binds a quarter of this run's largest buffer.
    const small = { ...ctx.limits, maxStorageBufferBindingSize: Math.floor(plan.largestBuffer / 4), maxBufferSize: ctx.limits.maxBufferSize, minStorageBufferOffsetAlignment: ctx.limits.minStorageBufferOffsetAlignment };
    const fit = checkFit(loaded, o, small);
    expect(fit.fits).toBe(false);
    expect(fit.why).toMatch(/^This run does not fit: its largest buffer needs .* MiB; this device binds at most .* MiB\. Lower the batch size to \d+\.$/);
    // A total budget below the plan, with room once the activations are recomputed.
    const budget = plan.total - plan.bytes.activations + planTraining(loaded, { ...c, recompute: true }, ctx.limits).bytes.activations + 1;
    const tight = checkFit(loaded, o, ctx.limits, budget);
    expect(tight).toEqual({ fits: false, why: expect.stringMatching(/needs .* of GPU memory; this device has .*\. Turn on activation recomputation\.$/) });
    expect(checkFit(loaded, { ...o, recompute: true }, ctx.limits, budget).fits).toBe(true);
  });
});
