// Assistant masks on the real tokenizer files of the Llama-3, Qwen3 and Llama-2 families (realFiles.ts), through
// the Tokenizers.js path, which reports no offsets: ours come from each token's bytes (src/io/chat/offsets.ts).
// The reference is HF tokenizers itself (the Rust crate, through @anush008/tokenizers): its offsets token by
// token, and the mask transformers' return_assistant_tokens_mask builds from them (char_to_token(start) …
// char_to_token(end − 1) for each span).
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChatTemplate, TokenOffsetError, buildChatSequences, chatTemplateFromConfig, renderWithSpans, tokenMask, tokenOffsets, type ChatMessage,
} from '../../../src/io/chat';
import { IGNORE_INDEX } from '../../../src/io/datasets';
import { LibraryTokenizer, loadTokenizer, type TextTokenizer } from '../../../src/io/tokenizer';
import { realTokenizerFiles, type RealFamily } from '../tokenizer/realFiles';
import { templateText } from '../datasets/chatHelpers';

type HfRust = typeof import('@anush008/tokenizers').Tokenizer;
const { Tokenizer: Rust } = createRequire(import.meta.url)('@anush008/tokenizers') as { Tokenizer: HfRust };
type RustTokenizer = InstanceType<HfRust>;

/** Code-point offsets (Rust, Python) → UTF-16 offsets (JavaScript). */
function cpToUtf16(text: string): number[] {
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    map.push(i);
    i += ch.length;
  }
  map.push(i);
  return map;
}
function utf16ToCp(text: string): Map<number, number> {
  const m = new Map<number, number>();
  cpToUtf16(text).forEach((u, c) => m.set(u, c));
  return m;
}

const TEXTS = [
  'Hello world',
  ' leading space and  double  spaces ',
  'naïve café Ångström — “quotes” ½ ² 12345 3.14',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷 keycap 1️⃣',
  '中文字符和日本語の文章、한국어 텍스트。',
  'tabs\tand\nnew\n\nlines\r\n end',
  '<s>[INST] hi [/INST] there </s><s>[INST] 2+2? [/INST] 4 </s>',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo 🙂<|im_end|>\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhé<|eot_id|>',
  '▁literal metaspace ▁▁ and \u00a0nbsp',
];

const CONVS: ChatMessage[][] = [
  [{ role: 'user', content: 'Hi there' }, { role: 'assistant', content: 'Hello!' }],
  [
    { role: 'system', content: 'Réponds en français.' },
    { role: 'user', content: 'Ça va ?' },
    { role: 'assistant', content: 'Très bien, merci 😀' },
    { role: 'user', content: '数字 12345?' },
    { role: 'assistant', content: '一二三四五 👨‍👩‍👧' },
  ],
  // replies whose last characters merge with nothing after them only because the end-of-turn token cuts there
  [{ role: 'user', content: 'spell it' }, { role: 'assistant', content: 'wor' }, { role: 'user', content: 'more' }, { role: 'assistant', content: 'ld🇫🇷' }],
];

/** The family's chat template: its own from tokenizer_config.json when the package ships one, else the fixture. */
function templateOf(family: RealFamily, configText: string): ChatTemplate {
  if (family === 'qwen3') return new ChatTemplate(chatTemplateFromConfig(configText));
  return new ChatTemplate(chatTemplateFromConfig(configText, { jinjaFile: templateText(family === 'llama3' ? 'llama3' : 'llama2') }));
}

describe.each<RealFamily>(['llama3', 'qwen3', 'llama2'])('%s: token offsets and assistant masks vs HF tokenizers (Rust)', (family) => {
  let ours: TextTokenizer;
  let rust: RustTokenizer;
  let tpl: ChatTemplate;

  beforeAll(() => {
    const files = realTokenizerFiles(family);
    ours = loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig });
    rust = Rust.fromFile(files.tokenizerJsonPath);
    tpl = templateOf(family, files.tokenizerConfig);
  }, 120_000);

  it('runs on the Tokenizers.js path', () => {
    expect(ours).toBeInstanceOf(LibraryTokenizer);
  });

  it('gives every token the character range the reference gives it', async () => {
    const enc = tokenOffsets(ours);
    const rendered = CONVS.map((c) => tpl.render(c));
    for (const text of [...TEXTS, ...rendered]) {
      const o = enc(text);
      const ref = await rust.encode(text, null, { addSpecialTokens: false });
      expect(o.ids).toEqual(ref.getIds());
      const u = cpToUtf16(text);
      const refRanges = ref.getOffsets().map(([s, e]) => [u[s], u[e]]);
      expect(o.ids.map((_, t) => [o.starts[t], o.ends[t]]), JSON.stringify(text)).toEqual(refRanges);
    }
  }, 120_000);

  it('trains exactly the tokens transformers marks: each reply and its end-of-turn token', async () => {
    const enc = tokenOffsets(ours);
    for (const conv of CONVS) {
      const r = renderWithSpans(tpl, conv);
      const o = enc(r.text);
      const mask = tokenMask(o, r.spans);
      const ref = await rust.encode(r.text, null, { addSpecialTokens: false });
      const cp = utf16ToCp(r.text);
      const want = new Uint8Array(o.ids.length);
      for (const s of r.spans) {
        const a = ref.charToToken(cp.get(s.start)!)!;
        const b = ref.charToToken(cp.get(s.end - 1)!)!;
        for (let t = a; t <= b; t++) want[t] = 1;
      }
      expect(Array.from(mask), r.text).toEqual(Array.from(want));
      // each reply ends with a trained special token (the end-of-turn token: <|eot_id|>, <|im_end|>, </s>),
      // and that token is trained only where it closes a reply (not after the user turns)
      const eotAfterReply = r.spans.map((s) => o.ids.findIndex((_, t) => o.ends[t] === s.end));
      for (const t of eotAfterReply) expect(t >= 0 && mask[t] === 1 && ours.isSpecial(o.ids[t])).toBe(true);
      const eot = o.ids[eotAfterReply[0]];
      expect(o.ids.filter((id, t) => id === eot && mask[t] === 1).length).toBe(r.spans.length);
      const eos = ours.eosTokenId ?? eot;
      // the trained tokens decode to the replies (with what the template writes around them inside the span)
      for (const s of r.spans) {
        const inSpan = o.ids.filter((_, t) => mask[t] === 1 && o.starts[t] >= s.start && o.ends[t] <= s.end);
        expect(ours.decode(inSpan).trim()).toBe(r.text.slice(s.start, s.end).trim());
      }
      // and through the sequence builder, the labels are those tokens shifted by one
      const seq = buildChatSequences([{ line: 1, messages: conv }], 'c.jsonl', tpl, enc, eos, 128);
      expect(seq.rejected).toEqual([]);
      const labels = seq.labels[0];
      for (let j = 0; j < 128; j++) expect(labels[j]).toBe(j + 1 < o.ids.length && want[j + 1] ? o.ids[j + 1] : IGNORE_INDEX);
    }
  }, 120_000);
});

describe('text a normalizer changes', () => {
  it('Qwen3 (NFC): a decomposed accent is refused by the offset encoder with a clear error, not given guessed offsets', () => {
    const files = realTokenizerFiles('qwen3');
    const tok = loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig });
    expect(() => tokenOffsets(tok)('cafe\u0301')).toThrow(TokenOffsetError);
    expect(() => tokenOffsets(tok)('café')).not.toThrow();
  });
});
