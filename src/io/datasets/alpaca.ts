// Instruction rows → (prompt, completion) pairs. The templates are Stanford Alpaca's PROMPT_DICT
// (tatsu-lab/stanford_alpaca train.py), verbatim: note that "### Response:" has no trailing newline there.
// As in that train.py, the input variant is used only when `input` is a non-empty string; the prompt is
// masked out of the loss and the output + EOS is trained (see sequences.ts).

export interface TextExample {
  /** Context that is not trained on (labels -100); '' for plain text. */
  prompt: string;
  /** Text that is trained on; EOS is appended when sequences are built from examples. */
  completion: string;
}

export const ALPACA_PROMPT_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:';

export const ALPACA_PROMPT_NO_INPUT =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:';

/** The Alpaca prompt for one instruction (and optional input). Substitution is literal: no `$` patterns. */
export function alpacaPrompt(instruction: string, input?: string | null): string {
  const hasInput = input !== undefined && input !== null && input !== '';
  const values: Record<string, string> = { instruction, input: hasInput ? input : '' };
  // one pass, like Python's str.format_map: braces inside the values are never expanded
  return (hasInput ? ALPACA_PROMPT_INPUT : ALPACA_PROMPT_NO_INPUT).replace(/\{(instruction|input)\}/g, (_m, k: string) => values[k]);
}

/** Field access on an untrusted row: own properties only (B6), so `__proto__` and friends are plain keys. */
export type FieldGetter = (name: string) => unknown;

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * One example from a row's fields, or the reason the row is unusable. `text` wins over the Alpaca fields;
 * whitespace-only text, instruction or output gives nothing to train on and is rejected.
 */
export function exampleFromFields(get: FieldGetter): TextExample | string {
  const text = get('text');
  if (text !== undefined) {
    if (typeof text !== 'string') return `field "text" must be a string, got ${kindOf(text)}`;
    if (text.trim() === '') return 'field "text" is empty';
    return { prompt: '', completion: text };
  }
  const instruction = get('instruction');
  const output = get('output');
  const input = get('input');
  if (instruction === undefined && output === undefined) return 'missing field "text" (or "instruction" and "output")';
  for (const [name, v] of [['instruction', instruction], ['output', output]] as const) {
    if (v === undefined) return `missing field "${name}"`;
    if (typeof v !== 'string') return `field "${name}" must be a string, got ${kindOf(v)}`;
    if (v.trim() === '') return `field "${name}" is empty`;
  }
  if (input !== undefined && input !== null && typeof input !== 'string') {
    return `field "input" must be a string, got ${kindOf(input)}`;
  }
  return { prompt: alpacaPrompt(instruction as string, input as string | null | undefined), completion: output as string };
}
