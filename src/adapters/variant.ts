// AdapterVariant: what distinguishes one training method from another, and nothing else. The trainer
// (src/train/trainer.ts) runs one loop for all of them and asks the variant three questions:
//   - how the experts are built (plain LoRA or DoRA, the scale s);
//   - the optimizer group of each trainable tensor (LoRA+ gives lora_B and 1-D tensors lr × ratio);
//   - whether training is a cascade, and how a finished expert enters the slow update (COLA, LoRASC).
import type { MethodName, TrainingConfig } from '../train/config';

export interface ParamGroup {
  /** Multiplier on the scheduled learning rate. */
  lrScale: number;
  weightDecay: number;
}

export interface CascadePolicy {
  /** Pace α of the slow update (COLA: 1). */
  alpha: number;
  /** Slow rule (docs/method.md#slow-rule): lookahead S ← S + α·ΔF, or ema. */
  slow: 'lookahead' | 'ema';
  /** Noise on the frozen backbone during each iteration; null = none (COLA, or LoRASC with λ = 0). */
  noise: { lambda: number; form: 'uniform' | 'gaussian'; scope: 'targets' | 'all'; persistent: boolean } | null;
}

export interface AdapterVariant {
  readonly name: MethodName;
  /** One line for the UI and the CLI help. */
  readonly summary: string;
  /** Experts are DoRA (trainable magnitude) rather than plain LoRA. */
  useDora(c: TrainingConfig): boolean;
  /** Optimizer group of a trainable tensor, by PEFT name and shape. */
  paramGroup(name: string, shape: readonly number[], c: TrainingConfig): ParamGroup;
  /** The cascade, or null for a single adapter trained end to end. */
  cascade(c: TrainingConfig): CascadePolicy | null;
}

/**
 * LoRA+ groups (PEFT create_loraplus_optimizer): every lora_B and every 1-D trainable tensor (DoRA
 * magnitudes, biases) gets lr × ratio; everything else (lora_A, the classifier weight) gets lr.
 * With no ratio, one group: lr for all. Ratio 1 gives exactly the plain optimizer.
 */
export function loraPlusGroup(name: string, shape: readonly number[], c: TrainingConfig): ParamGroup {
  const fast = c.loraplusRatio !== null && (name.includes('lora_B') || shape.length === 1);
  return { lrScale: fast ? (c.loraplusRatio as number) : 1, weightDecay: c.weightDecay };
}
