// TrainingConfig: one flat, commented record of every choice a run makes (docs/engineering.md#shape-letters:
// one config, presets). docs/method.md#open-choices are named options here. Defaults follow docs/method.md#defaults
// except where noted; `resolveConfig` fills defaults, applies a preset and validates, naming the field.
import { DEFAULT_METHOD, METHOD_NAMES, type MethodName, adapterVariant, isMethodName } from '../adapters/registry';
import { METHOD_OPTIONS, type MethodConfig } from '../adapters/variant';
import { loraScale as peftLoraScale } from '../io/peft/config';
import type { ScheduleKind } from './schedule';

export type { MethodName };
/** Every method, in the registry's order (src/adapters/registry.ts). */
export const METHODS: readonly MethodName[] = METHOD_NAMES;

export interface TrainingConfig extends MethodConfig {
  // ---- method ----
  /** The base method. Combinations: lorasc/cola + loraplusRatio (LoRA+ experts), + useDora, + useRslora. */
  method: MethodName;
  /** DoRA experts (implied by method 'dora'; allowed with 'lorasc' and 'cola'). */
  useDora: boolean;
  /** rsLoRA scaling s = loraAlpha / √r instead of loraAlpha / r. */
  useRslora: boolean;
  /** LoRA+ lr ratio for lora_B and 1-D params; null = plain optimizer. 'loraplus' defaults it to 16. */
  loraplusRatio: number | null;
  // ---- adapter ----
  r: number;
  loraAlpha: number;
  /** PEFT target_modules: a list (suffix match) or one regex string (full match). */
  targetModules: string[] | string;
  /** Dropout on the LoRA input (PEFT lora_dropout; seeded masks). DoRA runs use 0 (PEFT's DoRA dropout form is not implemented). */
  loraDropout: number;
  // ---- optimizer and schedule (one global schedule across cascade iterations) ----
  lr: number;
  schedule: ScheduleKind;
  warmupRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Micro-batches per optimizer step (gradient accumulation; effective batch = batchSize × gradAccum). */
  gradAccum: number;
  /** Clip the global gradient L2 norm to this (0 = no clipping). */
  maxGradNorm: number;
  // ---- data and length ----
  epochs: number;
  /** Stop after this many optimizer steps (0 = epochs decide). */
  maxSteps: number;
  batchSize: number;
  /** GPT-2: tokens per training sequence (≤ n_positions). */
  seqLen: number;
  /** Fraction of the data held out for validation. */
  valFraction: number;
  /** Evaluate on the validation split every N steps (0 = at the end of each epoch only). */
  evalEvery: number;
  /** Evaluate on at most this many validation examples (0 = the whole split); keeps evaluation quick. */
  evalExamples: number;
  /** Emit a train-loss log entry every N steps. */
  logEvery: number;
  seed: number;
  // ---- memory ----
  /**
   * Activation checkpointing: hold only each block's input across the step and recompute the block's
   * forward just before its backward (src/model/block.ts). Gradients are bit-identical; activations take
   * one block's worth instead of L, for about one more forward of compute (src/train/memoryPlan.ts).
   */
  recompute: boolean;
  /**
   * A BF16/F16 checkpoint's frozen weights on the GPU: 'stored' keeps them 2 bytes per parameter (packed),
   * 'f32' widens them (docs/engineering.md#frozen-weights). Cascades (COLA, LoRASC) always run F32:
   * frozenWeightsOf says what a run really uses.
   */
  frozenWeights: 'stored' | 'f32';
  // ---- cascade: COLA and LoRASC ----
  /** Steps per cascade iteration / COLA link; 0 = one per epoch (docs/method.md#open-choices). */
  iterationSteps: number;
  /** LoRASC slow-fast pace α ∈ (0, 1] (not lora_alpha). COLA uses 1. */
  alpha: number;
  /** LoRASC noise level λ ≥ 0 (0 turns noise off). */
  lambda: number;
  /** Noise form: NoisyTune uniform U(−λ/2, λ/2)·std(W), or Gaussian N(0, (λ·std(W))²). */
  noise: 'uniform' | 'gaussian';
  /** Noise on the LoRA-targeted weights only, or on every linear weight of the backbone. */
  noiseScope: 'targets' | 'all';
  /** Slow rule: 'lookahead' S ← S + α·ΔF; 'ema' S_t = (1−α)·S_{t−1} + α·ΔF_t, W_t = W_{t−1} + S_t. */
  slow: 'lookahead' | 'ema';
  /** Keep the noise in the backbone after the merge instead of discarding it. */
  persistentNoise: boolean;
  /** COLA option: restart the lr schedule in every link (default: one global schedule). */
  restartSchedule: boolean;
  // ---- safety ----
  /** Bad (non-finite) steps in a row before rolling back to the last good state. */
  nanPatience: number;
  /** Factor on the learning rate after a rollback. */
  rollbackLrFactor: number;
  /**
   * Checkpoint every N optimizer steps (0 = at each epoch end; a cascade also at every iteration start,
   * right after the merge). The rollback point of the NaN guard is the last checkpoint.
   */
  checkpointEvery: number;
  // ---- keep-best and early stop (./keepBest.ts; HF load_best_model_at_end, EarlyStoppingCallback) ----
  /** Return, export and serve the weights of the best validation evaluation (a cascade: at iteration boundaries). */
  keepBest: boolean;
  /** Stop after this many evaluations without improvement (0 = never). */
  earlyStopPatience: number;
  /** An evaluation must beat the best by more than this to reset the patience count. */
  earlyStopThreshold: number;
  // ---- ViT ----
  /** Classes of the task (ViT); a new head is created when the checkpoint's differs. */
  numClasses: number | null;
}

export const DEFAULTS: TrainingConfig = {
  method: DEFAULT_METHOD, useDora: false, useRslora: false, loraplusRatio: null,
  r: 8, loraAlpha: 16, targetModules: ['c_attn'], loraDropout: 0.05,
  lr: 2e-4, schedule: 'cosine', warmupRatio: 0.05, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradAccum: 1, maxGradNorm: 1,
  epochs: 3, maxSteps: 0, batchSize: 8, seqLen: 64, valFraction: 0.1, evalEvery: 0, evalExamples: 0, logEvery: 1, seed: 42, recompute: false, frozenWeights: 'stored',
  iterationSteps: 0, alpha: 0.5, lambda: 0.05, noise: 'uniform', noiseScope: 'targets', slow: 'lookahead',
  persistentNoise: false, restartSchedule: false,
  nanPatience: 3, rollbackLrFactor: 0.5, checkpointEvery: 0,
  keepBest: false, earlyStopPatience: 0, earlyStopThreshold: 0,
  numClasses: null,
};

/** Presets: a starting point per model kind and size of run; any field can still be overridden. */
export const PRESETS: Record<string, Partial<TrainingConfig>> = {
  // The built-in demos: short cascade iterations and a capped validation set, so rank growth and the
  // validation curve show within minutes even on a CPU-only machine (SwiftShader).
  'gpt2-demo': { targetModules: ['c_attn', 'c_proj', 'c_fc'], r: 8, loraAlpha: 16, lr: 2e-3, batchSize: 8, seqLen: 64, epochs: 2, iterationSteps: 25, evalEvery: 25, evalExamples: 32 },
  'vit-demo': { targetModules: ['query', 'value'], r: 8, loraAlpha: 16, lr: 2e-3, batchSize: 16, epochs: 8, evalExamples: 64 },
  // The Llama demo's chat set (public/demo/definitions-chat.jsonl): exchanges of at most 92 tokens, PEFT's
  // default targets; 4 epochs of the 360 training exchanges as in the fine-tune measured in public/demo/README.md (lr 5e-3).
  'llama-demo': { targetModules: ['q_proj', 'v_proj'], r: 8, loraAlpha: 16, lr: 5e-3, batchSize: 8, seqLen: 96, epochs: 4, iterationSteps: 45, evalEvery: 45, evalExamples: 40 },
  // The same demos sized for a CPU adapter (SwiftShader, llvmpipe; the studio picks these there, visibly):
  // four cascade iterations of 9 steps and an export in about three minutes on a 2-core machine (measured by test/e2e/newcomer.test.ts).
  'gpt2-demo-cpu': { targetModules: ['c_attn', 'c_proj', 'c_fc'], r: 8, loraAlpha: 16, lr: 2e-3, batchSize: 8, seqLen: 32, maxSteps: 36, iterationSteps: 9, evalEvery: 9, evalExamples: 16 },
  'vit-demo-cpu': { targetModules: ['query', 'value'], r: 8, loraAlpha: 16, lr: 2e-3, batchSize: 16, maxSteps: 40, iterationSteps: 10, evalEvery: 10, evalExamples: 32 },
  'llama-demo-cpu': { targetModules: ['q_proj', 'v_proj'], r: 8, loraAlpha: 16, lr: 5e-3, batchSize: 8, seqLen: 96, maxSteps: 45, iterationSteps: 15, evalEvery: 15, evalExamples: 16 },
  'gpt2-default': { targetModules: ['c_attn'], lr: 2e-4 },
  'vit-default': { targetModules: ['query', 'value'], lr: 5e-4 },
  'llama-default': { targetModules: ['q_proj', 'v_proj'], lr: 2e-4 }, // PEFT's default targets for llama / mistral / qwen2 / qwen3
};

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`training config: ${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function resolveConfig(partial: Partial<TrainingConfig>, preset?: string): TrainingConfig {
  if (preset !== undefined && !(preset in PRESETS)) {
    throw new ConfigError('preset', `unknown preset "${preset}" (one of ${Object.keys(PRESETS).join(', ')})`);
  }
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULTS)) throw new ConfigError(key, 'is not a training option');
  }
  const method = partial.method ?? (preset ? PRESETS[preset].method : undefined) ?? DEFAULTS.method;
  if (!isMethodName(method)) throw new ConfigError('method', `"${method}" is not one of ${METHODS.join(', ')}`);
  // The method's definition (src/adapters/): options it does not read are refused, its fixed values
  // may only be restated, its defaults fill what the user left unset.
  const v = adapterVariant(method);
  for (const f of METHOD_OPTIONS) {
    if (!(f in partial)) continue;
    if (!v.reads.includes(f) || (f in v.fixed && v.fixed[f] !== partial[f])) throw new ConfigError(f, v.refusal(f));
  }
  const c: TrainingConfig = { ...DEFAULTS, ...(preset ? PRESETS[preset] : {}), ...v.defaults, ...partial, ...v.fixed, method };
  for (const [k, x] of Object.entries(v.defaults) as [keyof MethodConfig, unknown][]) {
    if (partial[k] === undefined || partial[k] === null) Object.assign(c, { [k]: x });
  }
  if (c.useDora && !('loraDropout' in partial)) c.loraDropout = 0;
  validate(c);
  return c;
}

function check(ok: boolean, field: keyof TrainingConfig, message: string): void {
  if (!ok) throw new ConfigError(field, message);
}

const isInt = (x: number) => Number.isSafeInteger(x);

function validate(c: TrainingConfig): void {
  check(isMethodName(c.method), 'method', `"${c.method}" is not one of ${METHODS.join(', ')}`);
  check(isInt(c.r) && c.r >= 1 && c.r <= 1024, 'r', `must be an integer in 1..1024, got ${c.r}`);
  check(Number.isFinite(c.loraAlpha) && c.loraAlpha > 0, 'loraAlpha', `must be > 0, got ${c.loraAlpha}`);
  check(c.loraDropout >= 0 && c.loraDropout < 1, 'loraDropout', `must be in [0, 1), got ${c.loraDropout}`);
  check(!(c.useDora && c.loraDropout > 0), 'loraDropout', 'DoRA with LoRA dropout is not supported; use 0');
  check(Array.isArray(c.targetModules) ? c.targetModules.length > 0 : typeof c.targetModules === 'string' && c.targetModules.length > 0,
    'targetModules', 'name at least one module (e.g. c_attn, or query,value)');
  if (typeof c.targetModules === 'string') {
    try { new RegExp(c.targetModules); } catch { throw new ConfigError('targetModules', `"${c.targetModules}" is not a valid regular expression`); }
  }
  check(c.loraplusRatio === null || (Number.isFinite(c.loraplusRatio) && c.loraplusRatio > 0), 'loraplusRatio', `must be > 0, got ${c.loraplusRatio}`);
  check(Number.isFinite(c.lr) && c.lr > 0 && c.lr < 10, 'lr', `must be in (0, 10), got ${c.lr}`);
  check(['constant', 'linear', 'cosine'].includes(c.schedule), 'schedule', `"${c.schedule}" is not constant, linear or cosine`);
  check(c.warmupRatio >= 0 && c.warmupRatio < 1, 'warmupRatio', `must be in [0, 1), got ${c.warmupRatio}`);
  check(c.weightDecay >= 0, 'weightDecay', `must be ≥ 0, got ${c.weightDecay}`);
  check(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1, 'beta1', 'betas must be in [0, 1)');
  check(c.eps > 0, 'eps', `must be > 0, got ${c.eps}`);
  check(isInt(c.gradAccum) && c.gradAccum >= 1 && c.gradAccum <= 1024, 'gradAccum', `must be an integer in 1..1024, got ${c.gradAccum}`);
  check(c.maxGradNorm >= 0, 'maxGradNorm', `must be ≥ 0, got ${c.maxGradNorm}`);
  check(isInt(c.epochs) && c.epochs >= 1, 'epochs', `must be an integer ≥ 1, got ${c.epochs}`);
  check(isInt(c.maxSteps) && c.maxSteps >= 0, 'maxSteps', `must be an integer ≥ 0, got ${c.maxSteps}`);
  check(isInt(c.batchSize) && c.batchSize >= 1 && c.batchSize <= 4096, 'batchSize', `must be an integer in 1..4096, got ${c.batchSize}`);
  check(isInt(c.seqLen) && c.seqLen >= 2, 'seqLen', `must be an integer ≥ 2, got ${c.seqLen}`);
  check(c.valFraction >= 0 && c.valFraction < 1, 'valFraction', `must be in [0, 1), got ${c.valFraction}`);
  check(isInt(c.evalEvery) && c.evalEvery >= 0, 'evalEvery', `must be an integer ≥ 0, got ${c.evalEvery}`);
  check(isInt(c.evalExamples) && c.evalExamples >= 0, 'evalExamples', `must be an integer ≥ 0, got ${c.evalExamples}`);
  check(isInt(c.logEvery) && c.logEvery >= 1, 'logEvery', `must be an integer ≥ 1, got ${c.logEvery}`);
  check(isInt(c.seed) && c.seed >= 0, 'seed', `must be a non-negative integer, got ${c.seed}`);
  check(typeof c.recompute === 'boolean', 'recompute', `must be true or false, got ${c.recompute}`);
  check(c.frozenWeights === 'stored' || c.frozenWeights === 'f32', 'frozenWeights', `must be stored or f32, got ${String(c.frozenWeights)}`);
  check(isInt(c.iterationSteps) && c.iterationSteps >= 0, 'iterationSteps', `must be an integer ≥ 0, got ${c.iterationSteps}`);
  check(c.alpha > 0 && c.alpha <= 1, 'alpha', `the slow-fast pace α must be in (0, 1], got ${c.alpha}`);
  check(c.lambda >= 0 && c.lambda <= 10, 'lambda', `the noise level λ must be in [0, 10], got ${c.lambda}`);
  check(['uniform', 'gaussian'].includes(c.noise), 'noise', `"${c.noise}" is not uniform or gaussian`);
  check(['targets', 'all'].includes(c.noiseScope), 'noiseScope', `"${c.noiseScope}" is not targets or all`);
  check(['lookahead', 'ema'].includes(c.slow), 'slow', `"${c.slow}" is not lookahead or ema`);
  check(isInt(c.nanPatience) && c.nanPatience >= 1, 'nanPatience', `must be an integer ≥ 1, got ${c.nanPatience}`);
  check(c.rollbackLrFactor > 0 && c.rollbackLrFactor <= 1, 'rollbackLrFactor', `must be in (0, 1], got ${c.rollbackLrFactor}`);
  check(isInt(c.checkpointEvery) && c.checkpointEvery >= 0, 'checkpointEvery', `must be an integer ≥ 0, got ${c.checkpointEvery}`);
  check(typeof c.keepBest === 'boolean', 'keepBest', `must be true or false, got ${c.keepBest}`);
  check(isInt(c.earlyStopPatience) && c.earlyStopPatience >= 0, 'earlyStopPatience', `must be an integer ≥ 0, got ${c.earlyStopPatience}`);
  check(Number.isFinite(c.earlyStopThreshold) && c.earlyStopThreshold >= 0, 'earlyStopThreshold', `must be ≥ 0, got ${c.earlyStopThreshold}`);
  check(c.numClasses === null || (isInt(c.numClasses) && c.numClasses >= 2), 'numClasses', `must be an integer ≥ 2, got ${c.numClasses}`);
}

/**
 * Fields added after checkpoints were first written, with the value every older run had: a checkpoint
 * without them still resumes (recompute changes no number, only memory; frozenWeights 'stored' is what
 * every engine did before the option existed).
 */
const ADDED_LATER: Partial<TrainingConfig> = { recompute: false, frozenWeights: 'stored' };

/** Checks a config that was resolved before (a checkpoint's): exactly the known fields, each valid. */
export function checkResolvedConfig(given: unknown): TrainingConfig {
  if (typeof given !== 'object' || given === null) throw new ConfigError('config', 'is not an object');
  const c = { ...ADDED_LATER, ...given };
  for (const key of Object.keys(DEFAULTS)) if (!Object.hasOwn(c, key)) throw new ConfigError(key, 'is missing');
  for (const key of Object.keys(c)) if (!(key in DEFAULTS)) throw new ConfigError(key, 'is not a training option');
  validate(c as TrainingConfig);
  return c as TrainingConfig;
}

/**
 * The LoRA scale s of the experts: PEFT's formula (lora_alpha / r, or / √r with rsLoRA), the same one an
 * imported adapter_config.json is read with (src/io/peft/config.ts), so the two can never disagree.
 */
export const loraScale = (c: Pick<TrainingConfig, 'r' | 'loraAlpha' | 'useRslora'>): number => peftLoraScale(c);

export function isCascade(c: Pick<TrainingConfig, 'method'>): boolean {
  return adapterVariant(c.method).cascades;
}

/**
 * The frozen-weight format a run really uses: the config's choice, except that LoRASC's noise and the
 * COLA/LoRASC merges write the base weight, so a cascade is always F32 (never re-rounded).
 */
export function frozenWeightsOf(c: Pick<TrainingConfig, 'method' | 'frozenWeights'>): 'stored' | 'f32' {
  return isCascade(c) ? 'f32' : c.frozenWeights;
}

/**
 * Optimizer steps per cascade iteration (COLA link): iterationSteps, or one epoch; a single adapter's
 * one "iteration" is the whole run. The trainer and the studio's backfill of a resumed run use this.
 */
export function iterationLength(c: Pick<TrainingConfig, 'method' | 'iterationSteps'>, stepsPerEpoch: number, totalSteps: number): number {
  return isCascade(c) ? (c.iterationSteps > 0 ? c.iterationSteps : stepsPerEpoch) : totalSteps;
}
