// Every method runs on a Llama-family model (a tiny Qwen3: GQA, head_dim ≠ hidden/heads, q/k norms)
// through the one trainer, with LoRA on all seven linears q_proj … down_proj: LoRA, LoRA+, rsLoRA, DoRA,
// COLA and LoRASC each train a toy next-token task for a few steps and lower its validation loss; the
// cascades merge their experts into the base through setBaseWeight; every run yields merged weights.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedLlama, loadModelDir } from '../../../src/io/hfModel';
import { loraModules } from '../../../src/io/peft';
import { llamaLoraModules, llamaSpec } from '../../../src/model/families/llama';
import type { TrainingConfig } from '../../../src/train/config';
import { testContext } from '../../helpers/gpu';
import { source } from '../../node/hfModel/fixtures';
import { llamaConfig, llamaFolder, llamaTensors, shapeOf } from '../../node/hfModel/llamaFixtures';
import { createPlainEngine } from '../../../src/train/engine';
import { evaluate } from '../../../src/train/evaluate';
import { runTraining, toyLm } from './helpers';

const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const T = 8;

describe('every method on a Llama-family model', () => {
  let ctx: GpuContext;
  let loaded: LoadedLlama;
  beforeAll(async () => {
    ctx = await testContext();
    // V 101 covers the toy task's token ids (≤ 94).
    const shape = shapeOf('qwen3', { V: 101 });
    const l = await loadModelDir(source(llamaFolder(llamaConfig('qwen3', { vocab_size: 101 }), llamaTensors(shape))));
    if (l.kind !== 'llama') throw new Error(`expected a llama, got ${l.kind}`);
    loaded = l;
  });

  it('the engine lays its slots out over exactly the modules io/peft lists, in the same order', () => {
    expect(llamaLoraModules(loaded, llamaSpec(loaded))).toEqual(loraModules(loaded));
  });

  const base: Partial<TrainingConfig> = {
    targetModules: ALL, r: 2, loraAlpha: 4, batchSize: 4, seqLen: T, maxSteps: 8, lr: 2e-2, evalEvery: 8, evalExamples: 8, loraDropout: 0,
  };
  const methods: [string, Partial<TrainingConfig>][] = [
    ['LoRA', { method: 'lora' }],
    ['LoRA+', { method: 'loraplus', loraplusRatio: 4 }],
    ['rsLoRA', { method: 'lora', useRslora: true }],
    ['DoRA', { method: 'dora' }],
    ['COLA', { method: 'cola', iterationSteps: 4 }],
    ['LoRASC', { method: 'lorasc', iterationSteps: 4, lambda: 0.05 }],
  ];
  for (const [name, partial] of methods) {
    it(`${name} trains all seven modules and lowers the validation loss`, async () => {
      const data = toyLm(T, 32, 8, 3);
      const run = await runTraining(ctx, loaded, data, { ...base, ...partial });
      try {
        const { result, rec } = run;
        expect(result.steps).toBe(8);
        expect(new Set(run.targets.map((m) => m.path.split('.').pop()))).toEqual(new Set(ALL));
        const evals = result.history.filter((h) => 'eval_loss' in h).map((h) => h.eval_loss);
        // The untrained model's validation loss: the plain engine (no adapter effect) on the same examples.
        const plain = await createPlainEngine(ctx, loaded, { B: 4, T });
        const before = (await evaluate(plain, data, 4, data.val).finally(() => plain.destroy())).loss;
        expect(Number.isFinite(result.finalTrainLoss)).toBe(true);
        expect(result.finalVal?.loss).toBeLessThan(before);
        expect(evals.length).toBeGreaterThan(0);
        expect(result.merged.size).toBeGreaterThan(0);
        if (partial.method === 'cola' || partial.method === 'lorasc') {
          expect(rec.baseSets.length).toBeGreaterThan(0);
          expect(rec.baseSets.every((s) => s.path.startsWith('model.layers.'))).toBe(true);
          expect(result.iterations.length).toBe(2);
        }
      } finally {
        run.engine.destroy();
      }
    });
  }
});
