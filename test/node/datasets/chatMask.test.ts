// Token-level label masks for chat data: the rendered text is tokenized once, each token's character range
// comes from its bytes, and a target is trained iff its token overlaps an assistant span (the end-of-turn
// token included). Checked against masks derived independently by tokenizing the pieces of the text.
import { describe, expect, it } from 'vitest';
import { buildChatSequences, byteLevelOffsets, conversationPreview, previewSegments, renderWithSpans, tokenMask, type ChatMessage } from '../../../src/io/chat';
import { IGNORE_INDEX } from '../../../src/io/datasets';
import { chatTokenizer, family } from './chatHelpers';

const tok = chatTokenizer();
const enc = byteLevelOffsets(tok);
const CONV: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: '2+2?' },
  { role: 'assistant', content: '4' },
];

describe('token offsets', () => {
  it('cover the text exactly, token by token, including special tokens and multi-byte characters', () => {
    const text = '<|im_start|>user\nnaïve 🙂 emoji<|im_end|>\n';
    const o = enc(text);
    expect(o.ids).toEqual(tok.encode(text));
    for (let t = 1; t < o.ids.length; t++) expect(o.starts[t]).toBeGreaterThanOrEqual(o.ends[t - 1] - 2); // an emoji split over byte tokens shares its 2 code units
    expect(o.starts[0]).toBe(0);
    expect(o.ends[o.ids.length - 1]).toBe(text.length);
    const im = tok.tokenToId('<|im_end|>')!;
    const k = o.ids.indexOf(im);
    expect(text.slice(o.starts[k], o.ends[k])).toBe('<|im_end|>');
    // every token whose range is whole characters decodes to exactly that slice
    for (let t = 0; t < o.ids.length; t++) {
      const d = tok.decode([o.ids[t]]);
      if (!d.includes('\uFFFD')) expect(text.slice(o.starts[t], o.ends[t])).toBe(d);
    }
  });
});

describe('assistant-only labels', () => {
  for (const name of ['qwen2.5', 'llama3', 'llama2'] as const) {
    it(`${name}: exactly the reply tokens and the end-of-turn token are targets`, () => {
      const t = family(name);
      const r = renderWithSpans(t, name === 'llama2' ? CONV : CONV);
      const o = enc(r.text);
      const mask = tokenMask(o, r.spans);
      // independent count: the spans' own tokens (each span starts and ends at a token boundary for these texts)
      const spanTokens = r.spans.map((s) => tok.encode(r.text.slice(s.start, s.end)));
      const trained = o.ids.filter((_, i) => mask[i] === 1);
      expect(trained).toEqual(spanTokens.flat());
      const eot = tok.tokenToId(t.spec.specialTokens.eos_token)!;
      // every end-of-turn token after a reply is trained; the others (e.g. ChatML's after user turns) are not
      const eotTrained = o.ids.flatMap((id, i) => (id === eot ? [mask[i]] : []));
      expect(eotTrained.filter((m) => m === 1).length).toBe(2);
      const seq = buildChatSequences([{ line: 1, messages: CONV }], 'c.jsonl', t, enc, eot, 256);
      expect(seq.rejected).toEqual([]);
      const labels = seq.labels[0];
      for (let j = 0; j < 256; j++) {
        const want = j + 1 < o.ids.length && mask[j + 1] ? o.ids[j + 1] : IGNORE_INDEX;
        expect(labels[j]).toBe(want);
      }
      expect(seq.trainedTokens).toBe(trained.length);
      expect(Array.from(seq.ids[0].slice(0, o.ids.length))).toEqual(o.ids);
      expect(seq.ids[0][o.ids.length]).toBe(eot); // padded with EOS
    });
  }

  it('a token straddling a span edge is trained (transformers char_to_token rule): Llama-2 " Hello"', () => {
    // with a space before the reply inside the span, the byte-level pre-tokenizer makes "ĠHello" one token
    const t = family('llama2');
    const r = renderWithSpans(t, CONV.slice(1));
    const o = enc(r.text);
    const mask = tokenMask(o, [{ start: r.spans[0].start + 1, end: r.spans[0].end }]);
    const k = o.starts.findIndex((s) => s === r.spans[0].start);
    expect(r.text.slice(o.starts[k], o.ends[k]).startsWith(' ')).toBe(true);
    expect(mask[k]).toBe(1);
    expect(k > 0 && mask[k - 1] === 0).toBe(true);
  });

  it('truncation to T + 1 tokens keeps the reply targets inside the window; a window with none is dropped', () => {
    const t = family('qwen2.5');
    const o = enc(t.render(CONV));
    const full = buildChatSequences([{ line: 1, messages: CONV }], 'c.jsonl', t, enc, null, o.ids.length);
    const short = buildChatSequences([{ line: 3, messages: CONV }], 'c.jsonl', t, enc, null, 5);
    expect(full.truncated).toBe(0);
    expect(short.truncated + short.dropped).toBeGreaterThan(0);
    expect(short.dropped).toBe(1); // the first 6 tokens are system prompt only
    expect(short.ids.length).toBe(0);
  });

  it('a conversation the template refuses is rejected with its line, the others are kept', () => {
    const t = family('mistral-v0.1');
    const eos = tok.tokenToId('</s>')!;
    const seq = buildChatSequences(
      [
        { line: 2, messages: CONV },
        { line: 5, messages: CONV.slice(1) },
      ],
      'c.jsonl',
      t,
      enc,
      eos,
      64,
    );
    expect(seq.ids.length).toBe(1);
    expect(seq.rejected).toEqual([{ file: 'c.jsonl', line: 2, reason: expect.stringMatching(/Conversation roles must alternate/) }]);
  });
});

describe('data preview segments', () => {
  it('the segments concatenate to the rendered text and mark exactly the spans', () => {
    const t = family('llama3');
    const r = renderWithSpans(t, CONV);
    const segs = previewSegments(r.text, r.spans);
    expect(segs.map((s) => s.text).join('')).toBe(r.text);
    expect(segs.filter((s) => s.trained).map((s) => s.text)).toEqual(['Hello!<|eot_id|>', '4<|eot_id|>']);
    expect(segs[0]).toEqual({ text: r.text.slice(0, r.spans[0].start), trained: false });
    expect(segs.at(-1)!.trained).toBe(true); // Llama-3 ends with the last reply's <|eot_id|>
    for (let i = 1; i < segs.length; i++) expect(segs[i].trained).not.toBe(segs[i - 1].trained);
  });

  it('conversationPreview: ChatML replies and <|im_end|> trained, the newline after it and the prompts not', () => {
    expect(conversationPreview(family('smollm2'), CONV.slice(1, 3))).toEqual([
      { text: '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n', trained: false },
      { text: 'Hello!<|im_end|>', trained: true },
      { text: '\n', trained: false },
    ]);
  });
});
