// The methods by name. The trainer, the CLI (--method) and the studio's method picker all read this.
import type { MethodName } from '../train/config';
import { cola } from './cola';
import { dora } from './dora';
import { lora } from './lora';
import { loraPlus } from './loraPlus';
import { lorasc } from './lorasc';
import type { AdapterVariant } from './variant';

export const ADAPTERS: Readonly<Record<MethodName, AdapterVariant>> = { lora, loraplus: loraPlus, dora, cola, lorasc };

export function adapterVariant(name: MethodName): AdapterVariant {
  const v = ADAPTERS[name];
  if (!v) throw new Error(`unknown method "${name}" (one of ${Object.keys(ADAPTERS).join(', ')})`);
  return v;
}
