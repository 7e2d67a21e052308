// What chat needs from a model folder beyond the tokenizer: its chat template (chat_template.jinja, else
// tokenizer_config.json's chat_template; or one the user supplies, e.g. for a GPT-2, which has none) and the
// ids generation stops at: config.json and generation_config.json `eos_token_id` (an int or a list), the
// tokenizer's EOS and the token that closes a reply under the template (<|im_end|>, <|eot_id|>, </s>).
import type { TextTokenizer } from '../tokenizer';
import type { TokenizerFolder } from '../tokenizer/folder';
import { renderWithSpans } from './spans';
import { ChatTemplate, ChatTemplateError, chatTemplateFromConfig } from './template';

export interface ChatSetup {
  /** null: the model has no template and none was supplied (chat data and chat mode are refused). */
  template: ChatTemplate | null;
  /** Token ids generation stops at, without repeats. */
  stopIds: number[];
}

export interface ChatSetupOptions {
  /** A template the user supplied (Jinja text); it wins over the folder's own. */
  template?: string;
  /** Where it came from, for messages (a file name). */
  templateSource?: string;
  /** Template variables, as apply_chat_template keyword arguments (Qwen3's enable_thinking). */
  kwargs?: Record<string, unknown>;
}

async function textOf(source: TokenizerFolder, name: string): Promise<string | undefined> {
  return source.names.includes(name) ? new TextDecoder().decode(await source.read(name)) : undefined;
}

/** `eos_token_id` of a config file's JSON: an int or a list of ints; anything else gives none. */
function eosIds(json: string | undefined): number[] {
  if (json === undefined) return [];
  let v: unknown;
  try {
    v = (JSON.parse(json) as Record<string, unknown>)?.eos_token_id;
  } catch {
    return []; // config.json itself is validated by the model loader; generation_config.json is optional
  }
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is number => Number.isInteger(x) && (x as number) >= 0);
}

/** The token that closes a reply under the template: the last token of a probe reply's span, if special. */
export function endOfTurnId(tpl: ChatTemplate, tok: TextTokenizer): number | null {
  let r;
  try {
    r = renderWithSpans(tpl, [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }]);
  } catch {
    return null;
  }
  const span = r.text.slice(r.spans[0].start, r.spans[0].end);
  for (const c of tpl.spec.endOfTurnCandidates) {
    if (span.endsWith(c)) {
      const id = tok.tokenToId(c);
      if (id !== undefined) return id;
    }
  }
  return null;
}

export async function loadChatSetup(source: TokenizerFolder, tok: TextTokenizer, opts: ChatSetupOptions = {}): Promise<ChatSetup> {
  let configText = await textOf(source, 'tokenizer_config.json');
  if (configText === undefined) {
    // no tokenizer_config.json (a GPT-2 folder): the template sees the tokenizer's own BOS/EOS strings
    const cfg: Record<string, string> = {};
    const eos = tok.eosTokenId === null ? undefined : tok.idToTokenString(tok.eosTokenId);
    const bos = tok.bosTokenId === null ? undefined : tok.idToTokenString(tok.bosTokenId);
    if (eos !== undefined) cfg.eos_token = eos;
    if (bos !== undefined) cfg.bos_token = bos;
    configText = JSON.stringify(cfg);
  }
  let template: ChatTemplate | null = null;
  const jinja = opts.template ?? (await textOf(source, 'chat_template.jinja'));
  try {
    const spec = chatTemplateFromConfig(configText, jinja !== undefined ? { jinjaFile: jinja } : {});
    if (opts.template !== undefined) spec.source = opts.templateSource ?? 'the supplied chat template';
    template = new ChatTemplate(spec, opts.kwargs ?? {});
  } catch (e) {
    if (!(e instanceof ChatTemplateError) || !/has no chat template/.test(e.message)) throw e;
  }
  const ids = [
    ...eosIds(await textOf(source, 'config.json')),
    ...eosIds(await textOf(source, 'generation_config.json')),
    ...(tok.eosTokenId === null ? [] : [tok.eosTokenId]),
  ];
  const eot = template ? endOfTurnId(template, tok) : null;
  if (eot !== null) ids.push(eot);
  return { template, stopIds: [...new Set(ids)] };
}

const NO_TEMPLATE = 'the model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)';

/** The one line a chat dataset gets when the model has no template and none was supplied. */
export function noTemplateMessage(file: string): string {
  return `${file} is a chat dataset ("messages" or "conversations" rows), but ${NO_TEMPLATE}: supply one (a chat_template.jinja in the model folder, or lorasc --chat-template FILE.jinja)`;
}

/** The one line a chat request (playground, generate --chat) gets on a model without a template. */
export function noTemplateForChat(): string {
  return `${NO_TEMPLATE}, so it cannot chat: supply one (a chat_template.jinja in the model folder, or lorasc --chat-template FILE.jinja), or continue plain text instead`;
}
