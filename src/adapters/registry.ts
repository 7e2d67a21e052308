// The methods by name: the one place a method is registered. The config validation (src/train/config.ts),
// the trainer, the CLI help (--method), the studio's store, settings form and runs table, and the study
// all read this; adding a method is a file here and a line below.
import { cola } from './cola';
import { dora } from './dora';
import { lora } from './lora';
import { loraPlus } from './loraPlus';
import { lorasc } from './lorasc';
import type { AdapterVariant } from './variant';

export const ADAPTERS = { lora, loraplus: loraPlus, dora, cola, lorasc } as const satisfies Record<string, AdapterVariant>;

export type MethodName = keyof typeof ADAPTERS;
export const METHOD_NAMES = Object.keys(ADAPTERS) as MethodName[];
/** The method a run uses when the user names none. */
export const DEFAULT_METHOD: MethodName = 'lorasc';

export const isMethodName = (name: string): name is MethodName => Object.hasOwn(ADAPTERS, name);

export function adapterVariant(name: string): AdapterVariant {
  if (!isMethodName(name)) throw new Error(`unknown method "${name}" (one of ${METHOD_NAMES.join(', ')})`);
  return ADAPTERS[name];
}

/** The method's label (LoRA, LoRASC, ...); an unknown name (an old saved run) as it is. */
export const methodLabel = (name: string): string => (isMethodName(name) ? ADAPTERS[name].label : name);

/** The CLI's --method help: every method, and the default. */
export const methodHelp = (): string => `${METHOD_NAMES.join(' | ')} (default ${DEFAULT_METHOD})`;
