// Which special tokens `encode(text, { addSpecialTokens: true })` puts around the text, and which tokens are
// BOS and EOS — decided as transformers' fast tokenizers (4.x) decide it when loading a model folder:
//
// 1. tokenizer_class LlamaTokenizer / CodeLlamaTokenizer / GemmaTokenizer (with or without "Fast"; Llama-2,
//    TinyLlama, Mistral, Gemma): LlamaTokenizerFast.update_post_processor() REPLACES tokenizer.json's
//    post_processor by `[bos if add_bos_token] $A [eos if add_eos_token]`, with add_bos_token defaulting to
//    true and add_eos_token to false, bos_token / eos_token from tokenizer_config.json.
// 2. Every other class (PreTrainedTokenizerFast for Llama-3, Qwen2TokenizerFast, GPT2TokenizerFast for
//    SmolLM2 and GPT-2): tokenizer.json's post_processor is used as it is (TemplateProcessing adds its
//    tokens, ByteLevel and null add none) and add_bos_token / add_eos_token in the config are IGNORED.
//
// bos_token / eos_token may be strings or AddedToken objects ({"content": …}); null means "none". When the
// config does not name them, the conventional names are looked up (tokenizer.ts EOS_NAMES / BOS_NAMES).
// docs/tokenizers.md states the same rule.

import { quoteToken } from './errors';
import { describe, typeName, type FileCheck, type JsonObject } from './validate';

/** Ids added around an encoded text (one sequence: TemplateProcessing's `single`). */
export interface SpecialTemplate {
  prefix: readonly number[];
  suffix: readonly number[];
}

export const NO_TEMPLATE: SpecialTemplate = { prefix: [], suffix: [] };

/** What tokenizer_config.json says about special tokens; every field optional. */
export interface TokenizerConfig {
  tokenizerClass?: string;
  addBosToken?: boolean;
  addEosToken?: boolean;
  /** undefined: not named in the config; null: explicitly none. */
  bosToken?: string | null;
  eosToken?: string | null;
  /** transformers' `clean_up_tokenization_spaces` (decode); transformers ≥ 4.45 defaults it to false. */
  cleanUpTokenizationSpaces?: boolean;
}

const TEMPLATE_FROM_CONFIG = /^(Llama|CodeLlama|Gemma)Tokenizer(Fast)?$/;

/** Reads the special-token fields of a parsed tokenizer_config.json; other keys are not looked at. */
export function parseTokenizerConfig(check: FileCheck, value: unknown): TokenizerConfig {
  const root = check.object(value, 'the top level');
  const cfg: TokenizerConfig = {};
  const cls = check.field(root, 'tokenizer_class');
  if (typeof cls === 'string') cfg.tokenizerClass = cls;
  for (const [key, prop] of [['add_bos_token', 'addBosToken'], ['add_eos_token', 'addEosToken'], ['clean_up_tokenization_spaces', 'cleanUpTokenizationSpaces']] as const) {
    const v = check.field(root, key);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') check.fail('MODEL_TOKENIZER_SCHEMA', `${key} must be true or false, found ${describe(v)}`);
    cfg[prop] = v;
  }
  for (const [key, prop] of [['bos_token', 'bosToken'], ['eos_token', 'eosToken']] as const) {
    const v = check.field(root, key);
    if (v === undefined) continue;
    if (v === null || typeof v === 'string') cfg[prop] = v;
    else if (typeof v === 'object' && !Array.isArray(v) && typeof (v as JsonObject).content === 'string') cfg[prop] = (v as JsonObject).content as string;
    else check.fail('MODEL_TOKENIZER_SCHEMA', `${key} must be a string, an AddedToken object or null, found ${describe(v)}`);
  }
  return cfg;
}

/** True when transformers rebuilds the post-processor from the config (rule 1 above). */
export function templateFromConfig(cfg: TokenizerConfig): boolean {
  return cfg.tokenizerClass !== undefined && TEMPLATE_FROM_CONFIG.test(cfg.tokenizerClass);
}

/**
 * The template for one sequence. `idOf` maps a token's content to its id. Rule 1 builds it from the config;
 * rule 2 reads tokenizer.json's post_processor (TemplateProcessing, ByteLevel, null, or a Sequence of them;
 * others are refused by name rather than silently adding nothing).
 */
export function resolveTemplate(
  check: FileCheck,
  cfgCheck: FileCheck,
  postProcessor: unknown,
  cfg: TokenizerConfig,
  idOf: (content: string) => number | undefined,
): SpecialTemplate {
  if (templateFromConfig(cfg)) {
    const addBos = cfg.addBosToken ?? true;
    const addEos = cfg.addEosToken ?? false;
    const one = (on: boolean, key: string, name: string | null | undefined, fallback: string): number[] => {
      if (!on) return [];
      const content = name === undefined ? fallback : name;
      if (content === null) cfgCheck.fail('MODEL_TOKENIZER_SCHEMA', `add_${key}_token is true but ${key}_token is null`);
      const id = idOf(content);
      if (id === undefined) cfgCheck.fail('MODEL_TOKENIZER_VOCAB', `the ${key} token ${quoteToken(content)} is not in the vocabulary`);
      return [id];
    };
    // LlamaTokenizerFast's defaults when the config does not name them.
    return { prefix: one(addBos, 'bos', cfg.bosToken, '<s>'), suffix: one(addEos, 'eos', cfg.eosToken, '</s>') };
  }
  return postProcessorTemplate(check, postProcessor, 'post_processor');
}

function postProcessorTemplate(check: FileCheck, value: unknown, where: string): SpecialTemplate {
  if (value === undefined || value === null) return NO_TEMPLATE;
  const obj = check.object(value, where);
  const type = check.field(obj, 'type');
  if (type === 'ByteLevel') return NO_TEMPLATE; // only trims offsets; adds no token
  if (type === 'Sequence') {
    const list = check.field(obj, 'processors');
    if (!Array.isArray(list)) check.fail('MODEL_TOKENIZER_SCHEMA', `${where}.processors must be an array, found ${describe(list)}`);
    const prefix: number[] = [];
    const suffix: number[] = [];
    list.forEach((p, i) => {
      // Each processor wraps the result of the previous one: prefixes stack outside-in, suffixes inside-out.
      const t = postProcessorTemplate(check, p, `${where}.processors[${i}]`);
      prefix.unshift(...t.prefix);
      suffix.push(...t.suffix);
    });
    return { prefix, suffix };
  }
  if (type !== 'TemplateProcessing') {
    check.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where}.type is ${typeName(type)}; supported: TemplateProcessing, ByteLevel, Sequence`);
  }
  const single = check.field(obj, 'single');
  const specials = check.field(obj, 'special_tokens');
  if (!Array.isArray(single)) check.fail('MODEL_TOKENIZER_SCHEMA', `${where}.single must be an array, found ${describe(single)}`);
  const table = specials === undefined || specials === null ? {} : check.object(specials, `${where}.special_tokens`);
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seenA = false;
  single.forEach((piece: unknown, i) => {
    const p = check.object(piece, `${where}.single[${i}]`);
    if ('Sequence' in p) {
      if (seenA) check.fail('MODEL_TOKENIZER_UNSUPPORTED', `${where}.single names the sequence twice`);
      seenA = true;
      return;
    }
    const st = check.object(check.field(p, 'SpecialToken'), `${where}.single[${i}].SpecialToken`);
    const name = check.field(st, 'id');
    const entry = typeof name === 'string' && Object.hasOwn(table, name) ? check.object(table[name], `${where}.special_tokens`) : undefined;
    const ids = entry === undefined ? undefined : check.field(entry, 'ids');
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
      check.fail('MODEL_TOKENIZER_SCHEMA', `${where}.special_tokens has no ids for ${describe(name)}`);
    }
    (seenA ? suffix : prefix).push(...(ids as number[]));
  });
  if (!seenA) check.fail('MODEL_TOKENIZER_SCHEMA', `${where}.single has no {"Sequence": …} piece`);
  return { prefix, suffix };
}
