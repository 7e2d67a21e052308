// AdapterVariant: what distinguishes one training method from another, and nothing else: its name and
// label, the options it reads and refuses, the values it fixes, its defaults, whether it cascades, its
// settings-form fields — read by the config validation, the studio's store and form, the runs table,
// the CLI help and the study — and the three questions the trainer (src/train/trainer.ts) asks it:
//   - how the experts are built (plain LoRA or DoRA, the scale s);
//   - the optimizer group of each trainable tensor (LoRA+ gives lora_B and 1-D tensors lr × ratio);
//   - whether training is a cascade, and how a finished expert enters the slow update (COLA, LoRASC).

/**
 * The fields of the training config a method's definition reads (a subset of TrainingConfig in
 * src/train/config.ts, declared here so that the methods depend on nothing above them).
 */
export interface MethodConfig {
  useDora: boolean;
  useRslora: boolean;
  loraplusRatio: number | null;
  r: number;
  loraAlpha: number;
  weightDecay: number;
  iterationSteps: number;
  restartSchedule: boolean;
  alpha: number;
  lambda: number;
  noise: 'uniform' | 'gaussian';
  noiseScope: 'targets' | 'all';
  slow: 'lookahead' | 'ema';
  persistentNoise: boolean;
}

/** The options that only some methods read (the cascade's, LoRASC's): any other method refuses them. */
export const METHOD_OPTIONS = ['iterationSteps', 'restartSchedule', 'alpha', 'lambda', 'noise', 'noiseScope', 'slow', 'persistentNoise'] as const;
export type MethodOption = (typeof METHOD_OPTIONS)[number];

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

/** One field of the studio's settings form that a method adds (src/ui/studio/SettingsPanel.tsx renders them). */
export type MethodFormField =
  | { key: MethodOption; kind: 'number'; label: string; title?: string; step?: number; min?: number }
  | { key: MethodOption; kind: 'select'; label: string; options: readonly (readonly [string, string])[] }
  | { key: MethodOption; kind: 'check'; label: string };

export interface AdapterVariant {
  /** The name on the CLI (--method) and in configs. */
  readonly name: string;
  /** The name people read (the studio's picker, run labels, the study report). */
  readonly label: string;
  /** One line for the UI and the CLI help. */
  readonly summary: string;
  /** Of METHOD_OPTIONS, the ones this method reads; setting any other is refused (`refusal` says why). */
  readonly reads: readonly MethodOption[];
  /** Why an option this method does not read is refused (the config error's text). */
  refusal(option: MethodOption): string;
  /**
   * Values the method fixes (COLA: α = 1, no noise). Setting one of them to another value is refused with
   * `refusal`; they are applied after defaults and presets.
   */
  readonly fixed: Partial<MethodConfig>;
  /** Defaults of this method where the user gave no value (LoRA+: ratio 16). */
  readonly defaults: Partial<MethodConfig>;
  /** A cascade (COLA, LoRASC): iterations of fresh experts merged into the backbone. */
  readonly cascades: boolean;
  /** The settings form's fieldset for this method's options (legend and fields), or null. */
  readonly form: { legend: string; fields: readonly MethodFormField[] } | null;
  /** Experts are DoRA (trainable magnitude) rather than plain LoRA. */
  useDora(c: MethodConfig): boolean;
  /** Optimizer group of a trainable tensor, by PEFT name and shape. */
  paramGroup(name: string, shape: readonly number[], c: MethodConfig): ParamGroup;
  /** The cascade, or null for a single adapter trained end to end. */
  cascade(c: MethodConfig): CascadePolicy | null;
}

/** What a single-adapter method (LoRA, LoRA+, DoRA) says of a cascade option. */
export const singleAdapterRefusal = (name: string) => (_option: MethodOption) => `is a cascade option; method ${name} trains one adapter (use cola or lorasc)`;

/**
 * LoRA+ groups (PEFT create_loraplus_optimizer): every lora_B and every 1-D trainable tensor (DoRA
 * magnitudes, biases) gets lr × ratio; everything else (lora_A, the classifier weight) gets lr.
 * With no ratio, one group: lr for all. Ratio 1 gives exactly the plain optimizer.
 */
export function loraPlusGroup(name: string, shape: readonly number[], c: MethodConfig): ParamGroup {
  const fast = c.loraplusRatio !== null && (name.includes('lora_B') || shape.length === 1);
  return { lrScale: fast ? (c.loraplusRatio as number) : 1, weightDecay: c.weightDecay };
}
