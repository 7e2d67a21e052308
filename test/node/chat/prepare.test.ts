// A chat .jsonl through prepareText (src/train/prepare.ts), the run pipeline's text path, with the GPT-2 demo's
// tokenizer: a GPT-2 has no chat template, so chat data is refused in one line unless one is supplied; with the
// ChatML-layout template below, the trained targets are exactly each reply and the <|endoftext|> closing it,
// and every line not trained on is named with its reason.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChatSetup } from '../../../src/io/chat';
import { IGNORE_INDEX } from '../../../src/io/datasets';
import { sourceFromMap } from '../../../src/io/hfModel';
import { loadFolderTokenizer, type TextTokenizer } from '../../../src/io/tokenizer';
import { prepareText } from '../../../src/train/prepare';

/** ChatML's layout, each turn closed by the model's eos_token (GPT-2's vocabulary has no <|im_end|>). */
export const CHATML_EOS = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + eos_token + '\\n' }}{% endfor %}"
  + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const demo = resolve(__dirname, '../../../public/demo/gpt2-fortunes');
const source = sourceFromMap(new Map(['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => [f, new Uint8Array(readFileSync(resolve(demo, f)))])));

const row = (...turns: [string, string][]) => JSON.stringify({ messages: turns.map(([role, content]) => ({ role, content })) });
const LONG = 'word '.repeat(200).trim();
const LINES = [
  row(['user', 'Tell me a fortune.'], ['assistant', 'A journey awaits.']),
  '{"messages": [',
  row(['system', 'Be kind.'], ['user', 'Hi'], ['assistant', 'Hello, friend! ☺'], ['user', 'Again?'], ['assistant', 'Always.']),
  row(['user', 'no reply here']),
  row(['user', 'short'], ['assistant', `Long answer: ${LONG}`]),
  row(['user', LONG], ['assistant', 'too late']),
  JSON.stringify({ conversations: [{ from: 'human', value: 'ShareGPT?' }, { from: 'gpt', value: 'Yes.' }] }),
];
const bytes = new TextEncoder().encode(LINES.join('\n') + '\n');

async function setup(): Promise<TextTokenizer> {
  const tok = await loadFolderTokenizer(source);
  if (!tok) throw new Error('demo has a tokenizer.json');
  return tok;
}

describe('chat .jsonl in the run pipeline (GPT-2 demo)', () => {
  it('is refused in one line when the model has no chat template and none is supplied', async () => {
    const tok = await setup();
    const chat = await loadChatSetup(source, tok);
    expect(chat.template).toBeNull();
    expect(() => prepareText(bytes, 'chat.jsonl', tok, 64, 0.2, 0, undefined, chat.template)).toThrow(/chat\.jsonl is a chat dataset .*no chat template.*chat_template\.jinja in the model folder, or lorasc --chat-template/);
  });

  it('with a supplied template: targets are the replies and their end-of-turn token; rejected and truncated lines named', async () => {
    const tok = await setup();
    const chat = await loadChatSetup(source, tok, { template: CHATML_EOS, templateSource: 'chatml.jinja' });
    expect(chat.template).not.toBeNull();
    expect(chat.stopIds).toEqual([tok.eosTokenId]); // config.json's eos_token_id, the tokenizer's EOS and the template's EOT: one id
    const T = 128;
    const { data, preview } = prepareText(bytes, 'chat.jsonl', tok, T, 0, 0, undefined, chat.template);
    expect(preview.format).toBe('chat');
    expect(preview.examples).toBe(5); // conversations parsed (lines 2 and 4 are refused by the row parser)
    expect(preview.rejected.map((r) => [r.line, r.reason])).toEqual([
      [2, expect.stringMatching(/JSON/i)],
      [4, expect.stringMatching(/no assistant turn/)],
      [6, expect.stringMatching(/no reply token within the first 129 tokens/)],
    ]);
    expect(preview.chat?.truncatedLines).toEqual([5]);
    expect(preview.chat?.template).toBe('chatml.jinja');
    expect(data.train.length).toBe(4); // lines 1, 3, 5, 7
    const eos = '<|endoftext|>';
    const trainedText = data.train.map((e) => tok.decode(Array.from(e.labels).filter((y) => y !== IGNORE_INDEX)));
    expect(trainedText[0]).toBe(`A journey awaits.${eos}`);
    expect(trainedText[1]).toBe(`Hello, friend! ☺${eos}Always.${eos}`);
    expect(`Long answer: ${LONG}${eos}`.startsWith(trainedText[2])).toBe(true); // cut at T + 1 tokens
    expect(trainedText[2].length).toBeGreaterThan(20);
    expect(trainedText[3]).toBe(`Yes.${eos}`);
    // labels are next-token targets: each trained label is the id the sequence has one position later
    for (const e of data.train) {
      for (let j = 0; j + 1 < T; j++) if (e.labels[j] !== IGNORE_INDEX) expect(e.labels[j]).toBe(e.ids[j + 1]);
    }
    expect(preview.trainedTokens).toBe(data.train.reduce((n, e) => n + data.targets(e), 0));
    // the preview: the first conversations rendered, trained segments highlighted
    const segs = preview.chat!.samples;
    expect(segs.length).toBe(3);
    expect(segs[1].filter((g) => g.trained).map((g) => g.text)).toEqual([`Hello, friend! ☺${eos}`, `Always.${eos}`]);
    expect(segs[1].map((g) => g.text).join('')).toBe(chat.template!.render(JSON.parse(LINES[2]).messages));
  });
});
