// Shared pieces of the chat data tests: the template fixtures (test/fixtures/chat, sources in SOURCES.md),
// tokenizer_config.json texts for them, and a small byte-level BPE tokenizer (the GPT-2 demo vocabulary) with the
// families' special tokens added, so masks can be checked token by token.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChatTemplate, chatTemplateFromConfig } from '../../../src/io/chat';
import { fromTokenizerObject } from '../../../src/io/tokenizer';

export const templateText = (name: string): string => readFileSync(resolve(__dirname, '../../fixtures/chat', `${name}.jinja`), 'utf8');

/** A tokenizer_config.json as the families ship it: special tokens (some as AddedToken objects). */
export function configText(opts: { bos?: string; eos: string; specials: string[]; template?: string; nonSpecial?: string[] }): string {
  const decoder: Record<string, unknown> = {};
  let id = 100000;
  for (const s of opts.specials) decoder[String(id++)] = { content: s, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  for (const s of opts.nonSpecial ?? []) decoder[String(id++)] = { content: s, lstrip: false, normalized: false, rstrip: false, single_word: false, special: false };
  const cfg: Record<string, unknown> = {
    added_tokens_decoder: decoder,
    // eos as an AddedToken object, bos as a plain string: both forms occur in real configs
    eos_token: { __type: 'AddedToken', content: opts.eos, lstrip: false, normalized: false, rstrip: false, single_word: false },
  };
  if (opts.bos !== undefined) cfg.bos_token = opts.bos;
  if (opts.template !== undefined) cfg.chat_template = opts.template;
  return JSON.stringify(cfg);
}

const CHATML = { eos: '<|im_end|>', specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] };

export function family(name: 'qwen2.5' | 'qwen2.5-generation' | 'qwen3' | 'smollm2' | 'llama3' | 'llama2' | 'mistral-v0.1'): ChatTemplate {
  const template = templateText(name);
  if (name === 'qwen3') return new ChatTemplate(chatTemplateFromConfig(configText({ ...CHATML, nonSpecial: ['<think>', '</think>'], template })));
  if (name.startsWith('qwen') || name === 'smollm2') return new ChatTemplate(chatTemplateFromConfig(configText({ ...CHATML, template })));
  if (name === 'llama3') {
    const specials = ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'];
    return new ChatTemplate(chatTemplateFromConfig(configText({ bos: '<|begin_of_text|>', eos: '<|eot_id|>', specials, template })));
  }
  return new ChatTemplate(chatTemplateFromConfig(configText({ bos: '<s>', eos: '</s>', specials: ['<unk>', '<s>', '</s>'], template })));
}

const SPECIALS = [
  '<|im_start|>', '<|im_end|>', '<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<s>', '</s>', '<think>', '</think>',
];

/** The GPT-2 demo tokenizer (public/demo/gpt2-fortunes) plus the chat families' special tokens as added tokens. */
export function chatTokenizer() {
  const json = JSON.parse(readFileSync(resolve(__dirname, '../../../public/demo/gpt2-fortunes/tokenizer.json'), 'utf8'));
  let id = 1024;
  for (const content of SPECIALS) {
    json.added_tokens.push({ id: id++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  return fromTokenizerObject(json);
}
