// LoRA on GPT-2's Conv1D modules, chosen as PEFT chooses them (`target_modules`), and the flat
// trainable table of STYLE.md §9: one entry per tensor {name, shape, offset}, names = the PEFT
// adapter keys (INTEROP.md §5.1), so AdamW, checkpoints and export all walk the same list.
// params, grads and the AdamW moments m, v are four flat buffers that mirror the table.
import type { BufferBinding, GpuContext } from '../../gpu/context';
import type { Gpt2Config } from '../../io/hfModel/config';
import { magnitudeName } from '../dora';
import { GPT2_MODULES, type Gpt2Module, moduleDims } from './weights';

/**
 * PEFT semantics: a list matches a module whose full name equals an entry or ends with "." + entry;
 * a single string is a regular expression that must match the whole name (re.fullmatch). Full names
 * are those of GPT2LMHeadModel: `transformer.h.{i}.attn.c_attn`, …
 */
export type TargetModules = readonly string[] | string;

export const modulePath = (layer: number, m: Gpt2Module): string => `transformer.h.${layer}.${m}`;

export function isTargeted(path: string, target: TargetModules): boolean {
  if (typeof target === 'string') return new RegExp(`^(?:${target})$`).test(path);
  return target.some((t) => path === t || path.endsWith(`.${t}`));
}

export interface TrainableEntry {
  name: string; // PEFT key, e.g. base_model.model.transformer.h.0.attn.c_attn.lora_A.weight
  shape: number[]; // lora_A (R, IN), lora_B (OUT, R), lora_magnitude_vector (OUT)
  offset: number; // in elements, a multiple of the binding-offset alignment
  numel: number;
}

export interface LoraSlot {
  layer: number;
  module: Gpt2Module;
  path: string; // transformer.h.{i}.<module>
  IN: number;
  OUT: number;
  R: number;
  scale: number; // s = lora_alpha / R
  a: TrainableEntry; // (R, IN)
  b: TrainableEntry; // (OUT, R)
  /** DoRA magnitude (OUT), present when the layout uses DoRA. */
  m?: TrainableEntry;
}

export interface LoraLayout {
  slots: LoraSlot[];
  table: TrainableEntry[]; // A, B (and DoRA's m) of each slot, in model order (PEFT's parameter order)
  totalElems: number; // size of each flat buffer, padding included
  dora: boolean;
}

/**
 * Lays out A and B (and, with DoRA, the magnitude m) of every targeted module; offsets aligned to
 * `alignBytes` (minStorageBufferOffsetAlignment).
 */
export function layoutLora(
  c: Gpt2Config, target: TargetModules, r: number, loraAlpha: number, alignBytes: number, dora = false,
): LoraLayout {
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA: r=${r} must be a positive integer`);
  const align = Math.max(1, alignBytes / 4);
  const slots: LoraSlot[] = [];
  const table: TrainableEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]): TrainableEntry => {
    const e = { name, shape, offset, numel: shape.reduce((a, b) => a * b, 1) };
    offset += Math.ceil(e.numel / align) * align;
    table.push(e);
    return e;
  };
  for (let layer = 0; layer < c.n_layer; layer++) {
    for (const module of GPT2_MODULES) {
      const path = modulePath(layer, module);
      if (!isTargeted(path, target)) continue;
      const { IN, OUT } = moduleDims(c, module);
      const key = `base_model.model.${path}`;
      const a = add(`${key}.lora_A.weight`, [r, IN]);
      const b = add(`${key}.lora_B.weight`, [OUT, r]);
      const m = dora ? add(magnitudeName(path), [OUT]) : undefined;
      slots.push({ layer, module, path, IN, OUT, R: r, scale: loraAlpha / r, a, b, m });
    }
  }
  if (slots.length === 0) throw new Error(`LoRA: target_modules ${JSON.stringify(target)} matches no GPT-2 module`);
  return { slots, table, totalElems: offset, dora };
}

/** The four flat trainable buffers (each totalElems F32), labelled by role. */
export interface TrainableBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
}

export function createTrainableBuffers(ctx: GpuContext, layout: LoraLayout): TrainableBuffers {
  const bytes = layout.totalElems * 4;
  return {
    params: ctx.createBuffer('lora/params', bytes),
    grads: ctx.createBuffer('lora/grads', bytes),
    m: ctx.createBuffer('lora/adamw_m', bytes),
    v: ctx.createBuffer('lora/adamw_v', bytes),
  };
}

/** One table entry's range of a flat buffer, as a binding. */
export function entryBinding(buffer: GPUBuffer, e: TrainableEntry): BufferBinding {
  return { buffer, offset: e.offset * 4, size: e.numel * 4 };
}
