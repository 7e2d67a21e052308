// Where each assistant reply sits in the rendered conversation, as character spans [start, end) of the text
// apply_chat_template returns. Two methods (docs/chat.md §Spans):
//  1. Templates with transformers' {% generation %} blocks: the spans are exactly the blocks' output, as
//     transformers' return_assistant_tokens_mask computes them.
//  2. Otherwise, prefix rendering: P = render(messages[:i], add_generation_prompt=True) must be a prefix of the
//     full render R; the reply starts at |P| (so a template's own lead-in after the generation prompt, e.g.
//     Qwen3's empty <think></think> on the last turn, is trained, as the model generates it). The reply ends
//     after the first end-of-turn token (eos_token or an added token marked special) that follows the reply's
//     content in R, found before the next assistant reply's start. Limits: a template that renders earlier
//     turns differently once a later turn exists (R not starting with P) is refused, not guessed; a reply whose
//     text itself contains an end-of-turn string is cut there if the content cannot be found verbatim.
import { ChatTemplate, ChatTemplateError, GEN_CLOSE, GEN_OPEN } from './template';
import type { ChatMessage } from './messages';

export interface CharSpan {
  start: number;
  end: number;
}

export interface RenderedChat {
  /** The rendered conversation (apply_chat_template(messages, tokenize=False)). */
  text: string;
  /** One span per assistant reply, in order, non-overlapping, each including its end-of-turn token. */
  spans: CharSpan[];
  method: 'generation' | 'prefix';
}

export function renderWithSpans(tpl: ChatTemplate, messages: readonly ChatMessage[]): RenderedChat {
  return tpl.hasGenerationBlocks ? generationSpans(tpl, messages) : prefixSpans(tpl, messages);
}

function generationSpans(tpl: ChatTemplate, messages: readonly ChatMessage[]): RenderedChat {
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].content.includes(GEN_OPEN) || messages[i].content.includes(GEN_CLOSE)) {
      throw new ChatTemplateError(`message ${i} contains U+E000 or U+E001, which mark {% generation %} blocks while rendering`);
    }
  }
  const marked = tpl.renderMarked(messages, false);
  const spans: CharSpan[] = [];
  let text = '';
  let open = -1;
  for (const ch of marked) {
    if (ch === GEN_OPEN) {
      if (open >= 0) throw new ChatTemplateError('the chat template nests {% generation %} blocks');
      open = text.length;
    } else if (ch === GEN_CLOSE) {
      if (open < 0) throw new ChatTemplateError('the chat template closes a {% generation %} block it did not open');
      if (text.length > open) spans.push({ start: open, end: text.length });
      open = -1;
    } else text += ch;
  }
  if (open >= 0) throw new ChatTemplateError('the chat template leaves a {% generation %} block open');
  if (spans.length === 0) throw new ChatTemplateError('the chat template has {% generation %} blocks but rendered none for this conversation');
  return { text, spans, method: 'generation' };
}

function prefixSpans(tpl: ChatTemplate, messages: readonly ChatMessage[]): RenderedChat {
  const text = tpl.render(messages, false);
  const candidates = tpl.spec.endOfTurnCandidates;
  if (candidates.length === 0) throw new ChatTemplateError('tokenizer_config.json names no eos_token or special tokens: the end of a reply cannot be found');
  const assistants = messages.flatMap((m, i) => (m.role === 'assistant' ? [i] : []));
  // start of every reply first: each reply's search window ends where the next one starts
  const starts = assistants.map((i) => {
    const prefix = tpl.render(messages.slice(0, i), true);
    if (!text.startsWith(prefix)) {
      throw new ChatTemplateError(`the template renders the turns before message ${i} differently once a reply follows; the reply cannot be located by prefix rendering`);
    }
    return prefix.length;
  });
  const spans: CharSpan[] = [];
  for (let k = 0; k < assistants.length; k++) {
    const start = starts[k];
    const limit = k + 1 < starts.length ? starts[k + 1] : text.length;
    const needle = messages[assistants[k]].content.trim();
    const at = text.indexOf(needle, start);
    const from = at >= 0 && at + needle.length <= limit ? at + needle.length : start;
    let end = -1;
    let best = Infinity;
    for (const c of candidates) {
      const j = text.indexOf(c, from);
      if (j >= 0 && j + c.length <= limit && (j < best || (j === best && j + c.length > end))) {
        best = j;
        end = j + c.length;
      }
    }
    if (end < 0) {
      throw new ChatTemplateError(`no end-of-turn token (${candidates.join(', ')}) follows assistant message ${assistants[k]} in the rendered text`);
    }
    spans.push({ start, end });
  }
  return { text, spans, method: 'prefix' };
}
