// loadChatSetup (src/io/chat/folder.ts): where a model folder's chat template comes from, and the ids chat
// generation stops at — config.json / generation_config.json eos_token_id (int or list), the tokenizer's EOS,
// and the template's end-of-turn token.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChatSetup } from '../../../src/io/chat';
import { sourceFromMap } from '../../../src/io/hfModel';
import { loadFolderTokenizer } from '../../../src/io/tokenizer';
import { templateText } from '../datasets/chatHelpers';
import { realTokenizerFiles } from '../tokenizer/realFiles';

const enc = new TextEncoder();
const folder = (files: Record<string, string>) => sourceFromMap(new Map(Object.entries(files).map(([k, v]) => [k, enc.encode(v)])));

describe('loadChatSetup', () => {
  it('Llama-3 files with the Llama-3 template: stops at <|end_of_text|> (EOS) and <|eot_id|> (the template\'s EOT) and the configs\' lists', async () => {
    const f = realTokenizerFiles('llama3');
    const src = folder({
      'tokenizer.json': f.tokenizerJson, 'tokenizer_config.json': f.tokenizerConfig, 'chat_template.jinja': templateText('llama3'),
      'config.json': JSON.stringify({ eos_token_id: 128001 }), 'generation_config.json': JSON.stringify({ eos_token_id: [128001, 128008, 128009] }),
    });
    const tok = (await loadFolderTokenizer(src))!;
    const s = await loadChatSetup(src, tok);
    expect(s.template?.spec.source).toBe('chat_template.jinja'); // it wins over tokenizer_config.json's
    expect(tok.tokenToId('<|eot_id|>')).toBe(128009);
    expect(s.stopIds.sort()).toEqual([128001, 128008, 128009]);
  });

  it('Qwen3: the template in tokenizer_config.json, <|im_end|> both EOS and end of turn', async () => {
    const f = realTokenizerFiles('qwen3');
    const src = folder({ 'tokenizer.json': f.tokenizerJson, 'tokenizer_config.json': f.tokenizerConfig, 'config.json': JSON.stringify({ eos_token_id: 151645 }) });
    const tok = (await loadFolderTokenizer(src))!;
    const s = await loadChatSetup(src, tok);
    expect(s.template?.spec.source).toBe('tokenizer_config.json');
    expect(s.stopIds).toEqual([151645]);
    expect(tok.tokenToId('<|im_end|>')).toBe(151645);
  });

  it('a GPT-2 folder: no template (null), unless one is supplied; the template sees the tokenizer\'s EOS string', async () => {
    const demo = resolve(__dirname, '../../../public/demo/gpt2-fortunes');
    const src = folder({ 'tokenizer.json': readFileSync(resolve(demo, 'tokenizer.json'), 'utf8'), 'config.json': readFileSync(resolve(demo, 'config.json'), 'utf8') });
    const tok = (await loadFolderTokenizer(src))!;
    expect((await loadChatSetup(src, tok)).template).toBeNull();
    const s = await loadChatSetup(src, tok, { template: "{% for m in messages %}{{ m['content'] + eos_token }}{% endfor %}", templateSource: 't.jinja' });
    expect(s.template?.spec.source).toBe('t.jinja');
    expect(s.template?.render([{ role: 'user', content: 'a' }])).toBe('a<|endoftext|>');
    expect(s.stopIds).toEqual([tok.eosTokenId]);
  });
});
