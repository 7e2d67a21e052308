// The data preview: the rendered conversation cut into segments that are trained (assistant replies with
// their end-of-turn token) or not, for the UI to highlight. Concatenating the texts gives the rendered text.
import type { ChatMessage } from './messages';
import { renderWithSpans, type CharSpan } from './spans';
import type { ChatTemplate } from './template';

export interface PreviewSegment {
  text: string;
  trained: boolean;
}

export function previewSegments(text: string, spans: readonly CharSpan[]): PreviewSegment[] {
  const out: PreviewSegment[] = [];
  let pos = 0;
  for (const s of spans) {
    if (s.start > pos) out.push({ text: text.slice(pos, s.start), trained: false });
    if (s.end > s.start) out.push({ text: text.slice(s.start, s.end), trained: true });
    pos = s.end;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), trained: false });
  return out;
}

/** The preview of one conversation under a template; throws ChatTemplateError as renderWithSpans does. */
export function conversationPreview(tpl: ChatTemplate, messages: readonly ChatMessage[]): PreviewSegment[] {
  const r = renderWithSpans(tpl, messages);
  return previewSegments(r.text, r.spans);
}
