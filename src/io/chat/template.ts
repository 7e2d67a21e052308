// The model's chat template, rendered as transformers renders it (PreTrainedTokenizerBase.apply_chat_template):
// Jinja with trim_blocks and lstrip_blocks on and no trailing newline kept (@huggingface/jinja's Template sets
// exactly these), the tokenizer's special-token strings as variables (`bos_token`, `eos_token`, `unk_token`,
// `pad_token`, `additional_special_tokens`), `messages`, `add_generation_prompt`, and `raise_exception` /
// `strftime_now` from the library's globals; `tools` and `documents` are left undefined, as transformers does
// when none are given. Transformers' `{% generation %}` blocks are kept as markers (see spans.ts).
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from './messages';

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

/** What rendering needs from a model folder's tokenizer_config.json (and chat_template.jinja). */
export interface ChatTemplateSpec {
  /** The Jinja source. */
  template: string;
  /** Where the template came from, for messages: `chat_template.jinja` or `tokenizer_config.json`. */
  source: string;
  /** Special-token strings by tokenizer_config.json key (AddedToken objects reduced to their content). */
  specialTokens: Record<string, string>;
  /** `additional_special_tokens` as strings, when the config lists them (transformers passes them too). */
  additionalSpecialTokens?: string[];
  /** Added tokens marked special in `added_tokens_decoder`, plus `eos_token`: the end-of-turn candidates. */
  endOfTurnCandidates: string[];
}

const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

/** A special token as tokenizer_config.json writes it: a string, or an AddedToken object with `content`. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, 'content')) {
    const c = (v as { content: unknown }).content;
    if (typeof c === 'string') return c;
  }
  return null;
}

/** `chat_template` as a string or transformers' list of {name, template}; `name` as its `chat_template=` argument. */
function pickTemplate(value: unknown, name: string | undefined): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw new ChatTemplateError(`tokenizer_config.json: "chat_template" must be a string or a list of {name, template}`);
  const byName = new Map<string, string>();
  for (const t of value) {
    if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || typeof t.template !== 'string') {
      throw new ChatTemplateError('tokenizer_config.json: each "chat_template" entry must be {name: string, template: string}');
    }
    byName.set(t.name, t.template);
  }
  const want = name ?? 'default';
  const t = byName.get(want);
  if (t === undefined) throw new ChatTemplateError(`tokenizer_config.json: no chat template named "${want}" (has ${[...byName.keys()].join(', ') || 'none'})`);
  return t;
}

export interface ChatTemplateOptions {
  /** Contents of a `chat_template.jinja` beside tokenizer_config.json; it wins over the config's entry, as in transformers. */
  jinjaFile?: string;
  /** Which of a list of named templates (default "default"). */
  name?: string;
}

/** The chat template of a model folder, from tokenizer_config.json's text (and chat_template.jinja). */
export function chatTemplateFromConfig(configText: string, opts: ChatTemplateOptions = {}): ChatTemplateSpec {
  let cfg: unknown;
  try {
    cfg = JSON.parse(configText);
  } catch (e) {
    throw new ChatTemplateError(`tokenizer_config.json is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new ChatTemplateError('tokenizer_config.json must be a JSON object');
  const c = cfg as Record<string, unknown>;
  const specialTokens: Record<string, string> = {};
  for (const k of SPECIAL_KEYS) {
    const s = Object.hasOwn(c, k) ? tokenString(c[k]) : null;
    if (s !== null) specialTokens[k] = s;
  }
  const extra = Object.hasOwn(c, 'additional_special_tokens') ? c.additional_special_tokens : undefined;
  const additional = Array.isArray(extra) ? extra.map(tokenString).filter((s): s is string => s !== null) : undefined;
  const candidates = new Set<string>();
  if (specialTokens.eos_token !== undefined) candidates.add(specialTokens.eos_token);
  const decoder = Object.hasOwn(c, 'added_tokens_decoder') ? c.added_tokens_decoder : undefined;
  if (typeof decoder === 'object' && decoder !== null) {
    for (const t of Object.values(decoder as Record<string, unknown>)) {
      const s = tokenString(t);
      if (s !== null && s !== '' && (t as { special?: unknown }).special === true) candidates.add(s);
    }
  }
  let template: string;
  let source: string;
  if (opts.jinjaFile !== undefined) {
    template = opts.jinjaFile;
    source = 'chat_template.jinja';
  } else if (Object.hasOwn(c, 'chat_template') && c.chat_template !== null) {
    template = pickTemplate(c.chat_template, opts.name);
    source = 'tokenizer_config.json';
  } else {
    throw new ChatTemplateError('the model has no chat template (no "chat_template" in tokenizer_config.json and no chat_template.jinja)');
  }
  const spec: ChatTemplateSpec = { template, source, specialTokens, endOfTurnCandidates: [...candidates] };
  if (additional !== undefined) spec.additionalSpecialTokens = additional;
  return spec;
}

/** Private-use markers that stand for transformers' {% generation %} … {% endgeneration %} in the output. */
export const GEN_OPEN = '\uE000';
export const GEN_CLOSE = '\uE001';

/**
 * Replaces each generation tag by a block that prints a marker, keeping the tag's whitespace control:
 * `{%- generation -%}` still strips before and after. The library would otherwise drop the tags.
 */
function markGenerationBlocks(src: string): { src: string; hasGeneration: boolean } {
  let hasGeneration = false;
  const out = src.replace(/\{%(-?)\s*(end)?generation\s*(-?)%\}/g, (_m, l: string, end: string | undefined, r: string) => {
    hasGeneration = true;
    // opening: {%L if true %}{{ OPEN }}{% if true R%}   closing: {%L endif %}{{ CLOSE }}{% endif R%}
    return end
      ? `{%${l} endif %}{{ '${GEN_CLOSE}' }}{% endif ${r}%}`
      : `{%${l} if true %}{{ '${GEN_OPEN}' }}{% if true ${r}%}`;
  });
  return { src: out, hasGeneration };
}

/** A compiled template; `render` is called once per prefix by spans.ts, so parsing happens once. */
export class ChatTemplate {
  readonly hasGenerationBlocks: boolean;
  private readonly compiled: Template;

  /**
   * @param kwargs extra template variables, as keyword arguments to apply_chat_template (e.g. Qwen3's
   *   `enable_thinking: false`); they cannot replace `messages` or `add_generation_prompt`.
   */
  constructor(
    readonly spec: ChatTemplateSpec,
    private readonly kwargs: Readonly<Record<string, unknown>> = {},
  ) {
    const marked = markGenerationBlocks(spec.template);
    this.hasGenerationBlocks = marked.hasGeneration;
    try {
      this.compiled = new Template(marked.src);
    } catch (e) {
      throw new ChatTemplateError(`the chat template in ${spec.source} does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * The rendered text, generation markers included (strip them with `stripMarkers` for display). A template's
   * `raise_exception(...)` or a runtime error becomes a ChatTemplateError carrying the template's message.
   */
  renderMarked(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.compiled.render({
        ...this.spec.specialTokens,
        ...(this.spec.additionalSpecialTokens !== undefined ? { additional_special_tokens: this.spec.additionalSpecialTokens } : {}),
        ...this.kwargs,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (e) {
      throw new ChatTemplateError(`the chat template refused the conversation: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** The text transformers' apply_chat_template(tokenize=False) returns. */
  render(messages: readonly ChatMessage[], addGenerationPrompt = false): string {
    return stripMarkers(this.renderMarked(messages, addGenerationPrompt));
  }
}

export function stripMarkers(s: string): string {
  return s.replaceAll(GEN_OPEN, '').replaceAll(GEN_CLOSE, '');
}
