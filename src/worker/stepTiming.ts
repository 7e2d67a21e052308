// The measured speed of this device for a run's shape (./runSize.ts uses it for the duration estimate):
// one optimizer step — gradAccum micro-batches, the non-finite scan and the norm, AdamW (at lr 0, so
// nothing changes) — and one evaluation batch, on an engine built as the run's, warmed up once so that
// shader compilation is not counted. The batch content does not change the work, so it is zeros.
// At a real vocabulary on a CPU adapter one such step takes minutes, so the probe is a background job that
// gives way: `signal` is checked before every engine call, and an aborted probe ends there (the engine freed).
import type { GpuContext } from '../gpu/context';
import type { LoadedModel } from '../io/hfModel';
import type { TrainingConfig } from '../train/config';
import { createEngine, engineOptions } from '../train/engine';
import type { LinearModule } from '../train/modules';
import type { StepTiming } from './runSize';

export async function timeOneStep(ctx: GpuContext, loaded: LoadedModel, c: TrainingConfig, targets: LinearModule[], T: number, signal?: AbortSignal): Promise<StepTiming> {
  const check = () => signal?.throwIfAborted();
  check();
  const engine = await createEngine(ctx, loaded, engineOptions(c, targets, T));
  try {
    engine.initLora(1);
    const B = c.batchSize;
    const input = loaded.kind !== 'vit' ? new Uint32Array(B * T) : new Float32Array(B * loaded.config.num_channels * loaded.config.image_size[0] * loaded.config.image_size[1]);
    const labels = new Int32Array(loaded.kind !== 'vit' ? B * T : B);
    const e = engine as unknown as { step(i: typeof input, l: Int32Array): Promise<unknown>; evalLoss(i: typeof input, l: Int32Array): Promise<unknown>; forwardLogits(i: typeof input): Promise<unknown> };
    const step = async () => {
      for (let j = 0; j < c.gradAccum; j++) { check(); await e.step(input, labels); }
      check();
      await Promise.all([engine.nonFiniteGrads(), engine.gradNorm()]);
      check();
      await engine.adamwStep(() => 0, { weightDecay: () => 0, beta1: c.beta1, beta2: c.beta2, eps: c.eps });
    };
    // Language-model validation is evalLoss; ViT validation reads the logits (src/train/evaluate.ts).
    const evalBatch = () => (check(), loaded.kind !== 'vit' ? e.evalLoss(input, labels) : e.forwardLogits(input));
    await step(); await evalBatch(); // warm-up: pipelines compile on first use
    let t0 = performance.now();
    await step(); await step();
    const stepMs = (performance.now() - t0) / 2;
    t0 = performance.now();
    await evalBatch();
    return { stepMs, evalBatchMs: performance.now() - t0 };
  } finally {
    engine.destroy();
  }
}
