// The study's grid: which runs (cells) `npm run study` makes, with every setting spelled out, so a cell's
// saved JSON says exactly what was run and a rerun can tell a finished cell from a changed one. Pure
// data, shared by the Node runner (run.ts), the engine page (page.ts) and the report (report.ts).
//
// Fair comparisons (docs/method.md#fair-comparisons): every method of a task sees the same data split, the same training seeds,
// the same ranks, the same epoch budgets and the same learning-rate grid; only the method fields differ.
import { ADAPTERS } from '../../adapters/registry';
import type { TrainingConfig } from '../../train/config';

export type Task = 'gpt' | 'vit';

/** The five methods of the main grid, and the LoRASC ablations. */
export type MethodKey =
  | 'base'
  | 'lora' | 'cola' | 'lorasc' | 'lorasc+loraplus' | 'lorasc+dora'
  | 'lorasc-no-noise' | 'lorasc-alpha1' | 'lorasc-ema' | 'lorasc-persistent';

export const MAIN_METHODS: readonly MethodKey[] = ['lora', 'cola', 'lorasc', 'lorasc+loraplus', 'lorasc+dora'];
export const ABLATIONS: readonly MethodKey[] = ['lorasc-no-noise', 'lorasc-alpha1', 'lorasc-ema', 'lorasc-persistent'];

export const METHOD_LABEL: Record<MethodKey, string> = {
  base: 'base model (no fine-tuning)',
  lora: ADAPTERS.lora.label,
  cola: ADAPTERS.cola.label,
  lorasc: ADAPTERS.lorasc.label,
  'lorasc+loraplus': `${ADAPTERS.lorasc.label}+${ADAPTERS.loraplus.label}`,
  'lorasc+dora': `${ADAPTERS.lorasc.label}+${ADAPTERS.dora.label}`,
  'lorasc-no-noise': 'LoRASC λ=0 (no noise)',
  'lorasc-alpha1': 'LoRASC α=1 (no slow-fast)',
  'lorasc-ema': "LoRASC slow='ema'",
  'lorasc-persistent': 'LoRASC persistent noise',
};

/** The method fields of the training config (TrainingConfig) for each method key. */
export const METHOD_FIELDS: Record<MethodKey, Partial<TrainingConfig>> = {
  base: { method: 'lora' }, // evaluated with a zero adapter (B = 0), never trained
  lora: { method: 'lora' },
  cola: { method: 'cola' },
  lorasc: { method: 'lorasc', alpha: 0.5, lambda: 0.05 },
  'lorasc+loraplus': { method: 'lorasc', alpha: 0.5, lambda: 0.05, loraplusRatio: 16 },
  'lorasc+dora': { method: 'lorasc', alpha: 0.5, lambda: 0.05, useDora: true },
  'lorasc-no-noise': { method: 'lorasc', alpha: 0.5, lambda: 0 },
  'lorasc-alpha1': { method: 'lorasc', alpha: 1, lambda: 0.05 },
  'lorasc-ema': { method: 'lorasc', alpha: 0.5, lambda: 0.05, slow: 'ema' },
  'lorasc-persistent': { method: 'lorasc', alpha: 0.5, lambda: 0.05, persistentNoise: true },
};

/** The data of a task: how it is split and how much of it the study trains and validates on. */
export interface TaskData {
  task: Task;
  /** Built-in model folder and data under public/ (served by Vite at /demo/...). */
  model: string;
  data: string;
  /** Seed of the train/validation split: fixed for the whole study (training seeds vary separately). */
  dataSeed: number;
  valFraction: number;
  /** Use the first N training / validation examples of the split (0 = all). */
  trainExamples: number;
  valExamples: number;
  batchSize: number;
  /** Batch of the evaluations after training (ViT: any size; GPT-2: its fixed batch). */
  evalBatch: number;
  /** GPT-2 tokens per sequence. */
  seqLen: number;
  /** Evaluate the final model on its training examples too (the train–val gap). */
  trainEval: boolean;
  targetModules: string[];
}

/** The corrupted held-out sets (ViT), built in the page from the validation images. */
export interface CorruptionSpec {
  /** Seed of the per-image random draws (noise, rotation angles). */
  seed: number;
  /** Gaussian noise σ on [0, 1] pixel values. */
  noiseSigma: number;
  /** Gaussian blur σ in pixels. */
  blurSigma: number;
  /** Rotation by a random angle of magnitude in [min, max] degrees, random sign, bilinear, black fill. */
  rotateMinDeg: number;
  rotateMaxDeg: number;
  /** Contrast factor c: x ← (x − mean) · c + mean. */
  contrast: number;
}

export interface Cell {
  id: string;
  task: Task;
  /** 'base': the pretrained model evaluated as it is (the epoch-0 point of every curve). */
  group: 'main' | 'ablation' | 'base';
  method: MethodKey;
  r: number;
  epochs: number;
  lr: number;
  seed: number;
  /** The partial TrainingConfig the page resolves (with the default preset of the model kind). */
  config: Partial<TrainingConfig>;
}

export interface TaskGrid {
  data: TaskData;
  ranks: number[];
  epochs: number[];
  lrs: number[];
  seeds: number[];
  methods: MethodKey[];
  /**
   * 'product': every rank with every epoch budget. 'cross': every rank at the headline budget, and every
   * budget at the headline rank (fewer cells; the rank and the budget are each varied alone).
   */
  layout: 'product' | 'cross';
  /** The ablations run at this one (rank, epochs), for these lrs and every seed; null = none. */
  ablation: { r: number; epochs: number; lrs: number[] } | null;
  /** The rank and epoch budget of the headline table and the curves. */
  headline: { r: number; epochs: number };
}

/** The (rank, epochs) pairs of a task's main grid. */
export function gridConfigs(g: TaskGrid): { r: number; epochs: number }[] {
  const out: { r: number; epochs: number }[] = [];
  for (const epochs of g.epochs) {
    for (const r of g.ranks) {
      if (g.layout === 'product' || epochs === g.headline.epochs || r === g.headline.r) out.push({ r, epochs });
    }
  }
  return out;
}

export interface Study {
  name: 'quick' | 'full';
  tasks: TaskGrid[];
  corruption: CorruptionSpec;
}

const CORRUPTION: CorruptionSpec = { seed: 7, noiseSigma: 0.35, blurSigma: 1.0, rotateMinDeg: 15, rotateMaxDeg: 30, contrast: 0.3 };

const GPT_DATA: TaskData = {
  task: 'gpt', model: 'demo/gpt2-fortunes', data: 'demo/fortunes-finetune.txt', dataSeed: 42, valFraction: 0.1,
  trainExamples: 512, valExamples: 128, batchSize: 8, evalBatch: 8, seqLen: 32, trainEval: true, targetModules: ['c_attn', 'c_proj', 'c_fc'],
};

const VIT_DATA: TaskData = {
  task: 'vit', model: 'demo/vit-mnist', data: 'demo/mnist-finetune', dataSeed: 42, valFraction: 0.3,
  trainExamples: 0, valExamples: 0, batchSize: 16, evalBatch: 60, seqLen: 0, trainEval: true, targetModules: ['query', 'value'],
};

/**
 * --quick: sized to finish in under 20 minutes on a 2-core CPU-only machine (SwiftShader) shared with
 * other work: small data subsets, one learning rate, one seed, ViT-heavy (the ViT demo is the cheaper
 * model); every method, two ranks, every ablation. The full grid is for a real GPU.
 */
export function studyGrid(quick: boolean): Study {
  if (quick) {
    return {
      name: 'quick',
      corruption: CORRUPTION,
      tasks: [
        {
          data: { ...VIT_DATA, trainExamples: 40, valExamples: 40, batchSize: 20, evalBatch: 40, trainEval: false },
          ranks: [2, 8], epochs: [3], lrs: [3e-3], seeds: [0], methods: [...MAIN_METHODS], layout: 'product',
          ablation: { r: 8, epochs: 3, lrs: [3e-3] }, headline: { r: 8, epochs: 3 },
        },
        {
          data: { ...GPT_DATA, trainExamples: 16, valExamples: 16, seqLen: 16 },
          ranks: [4], epochs: [3], lrs: [2e-3], seeds: [0], methods: [...MAIN_METHODS], layout: 'product',
          ablation: null, headline: { r: 4, epochs: 3 },
        },
      ],
    };
  }
  return {
    name: 'full',
    corruption: CORRUPTION,
    tasks: [
      {
        data: VIT_DATA, ranks: [2, 4, 8, 16], epochs: [4, 8, 16], lrs: [1e-3, 2e-3, 4e-3], seeds: [0, 1, 2], methods: [...MAIN_METHODS],
        layout: 'product', ablation: { r: 8, epochs: 8, lrs: [1e-3, 2e-3, 4e-3] }, headline: { r: 8, epochs: 8 },
      },
      {
        data: GPT_DATA, ranks: [2, 4, 8, 16], epochs: [2, 4], lrs: [5e-4, 1e-3, 2e-3], seeds: [0, 1, 2], methods: [...MAIN_METHODS],
        layout: 'product', ablation: { r: 8, epochs: 4, lrs: [5e-4, 1e-3, 2e-3] }, headline: { r: 8, epochs: 4 },
      },
    ],
  };
}

const fmtLr = (lr: number) => lr.toExponential().replace('+', ''); // 0.001 → 1e-3

export function cellId(task: Task, method: MethodKey, r: number, epochs: number, lr: number, seed: number): string {
  if (method === 'base') return `${task}-base`;
  return `${task}-${method.replace('+', '_')}-r${r}-e${epochs}-lr${fmtLr(lr)}-s${seed}`;
}

function makeCell(g: TaskGrid, group: Cell['group'], method: MethodKey, r: number, epochs: number, lr: number, seed: number): Cell {
  const d = g.data;
  const config: Partial<TrainingConfig> = {
    ...METHOD_FIELDS[method],
    r, loraAlpha: 2 * r, // s = loraAlpha / r = 2 at every rank, so the rank sweep does not also sweep the scale
    targetModules: d.targetModules, lr, epochs, batchSize: d.batchSize, seed,
    schedule: 'cosine', warmupRatio: 0.05, weightDecay: 0, maxGradNorm: 1,
    valFraction: d.valFraction, evalEvery: 0, evalExamples: 0, logEvery: 1,
    ...(d.task === 'gpt' ? { seqLen: d.seqLen } : {}),
  };
  return { id: cellId(d.task, method, r, epochs, lr, seed), task: d.task, group, method, r, epochs, lr, seed, config };
}

/** Every cell of the study, ViT first (cheaper), in a fixed order. */
export function studyCells(s: Study): Cell[] {
  const cells: Cell[] = [];
  for (const g of s.tasks) {
    cells.push(makeCell(g, 'base', 'base', g.headline.r, 1, g.lrs[0], 0));
    for (const seed of g.seeds) {
      for (const { r, epochs } of gridConfigs(g)) {
        for (const lr of g.lrs) for (const m of g.methods) cells.push(makeCell(g, 'main', m, r, epochs, lr, seed));
      }
      if (g.ablation) {
        for (const lr of g.ablation.lrs) for (const m of ABLATIONS) cells.push(makeCell(g, 'ablation', m, g.ablation.r, g.ablation.epochs, lr, seed));
      }
    }
  }
  return cells;
}

export function taskGrid(s: Study, task: Task): TaskGrid | undefined {
  return s.tasks.find((g) => g.data.task === task);
}
