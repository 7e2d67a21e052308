// Where the chat template comes from (tokenizer_config.json string or named list, chat_template.jinja) and
// which variables it sees: special tokens as strings or AddedToken objects, add_generation_prompt, no tools.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, ChatTemplateError, chatTemplateFromConfig } from '../../../src/io/chat';
import { configText, templateText } from './chatHelpers';

const msgs = [
  { role: 'user' as const, content: 'Q' },
  { role: 'assistant' as const, content: 'A' },
];

describe('chat template source', () => {
  it('chat_template.jinja wins over the config entry, as transformers loads it', () => {
    const spec = chatTemplateFromConfig(configText({ eos: '</s>', specials: [], template: 'config' }), { jinjaFile: 'file' });
    expect(spec.template).toBe('file');
    expect(spec.source).toBe('chat_template.jinja');
  });

  it('a list of {name, template}: "default" unless a name is asked for', () => {
    const cfg = JSON.stringify({ eos_token: '</s>', chat_template: [{ name: 'default', template: 'D' }, { name: 'tool_use', template: 'T' }] });
    expect(chatTemplateFromConfig(cfg).template).toBe('D');
    expect(chatTemplateFromConfig(cfg, { name: 'tool_use' }).template).toBe('T');
    expect(() => chatTemplateFromConfig(cfg, { name: 'rag' })).toThrow('no chat template named "rag" (has default, tool_use)');
  });

  it('refuses a config without a template, a bad list entry, bad JSON, and a template that does not parse', () => {
    expect(() => chatTemplateFromConfig(JSON.stringify({ eos_token: '</s>' }))).toThrow(/has no chat template/);
    expect(() => chatTemplateFromConfig(JSON.stringify({ chat_template: [{ name: 'default' }] }))).toThrow(/each "chat_template" entry/);
    expect(() => chatTemplateFromConfig('{')).toThrow(ChatTemplateError);
    expect(() => new ChatTemplate(chatTemplateFromConfig(JSON.stringify({ chat_template: '{% for m in messages %}' })))).toThrow(/does not parse/);
  });

  it('special tokens reach the template as strings, whether written as strings or AddedToken objects', () => {
    const template = '{{ bos_token }}|{{ eos_token }}|{{ unk_token }}|{{ add_generation_prompt }}|{{ tools is defined }}|{{ documents is defined }}|{{ messages | length }}';
    const cfg = JSON.stringify({
      bos_token: '<s>',
      eos_token: { __type: 'AddedToken', content: '</s>', special: true },
      unk_token: { content: '<unk>' },
      chat_template: template,
    });
    const t = new ChatTemplate(chatTemplateFromConfig(cfg));
    expect(t.render(msgs, true)).toBe('<s>|</s>|<unk>|true|false|false|2');
    expect(t.spec.endOfTurnCandidates).toEqual(['</s>']);
  });

  it('additional_special_tokens reach the template as a list of strings', () => {
    const cfg = JSON.stringify({ additional_special_tokens: ['<a>', { content: '<b>' }], chat_template: '{{ additional_special_tokens | join(",") }}' });
    expect(new ChatTemplate(chatTemplateFromConfig(cfg)).render(msgs)).toBe('<a>,<b>');
  });

  it('end-of-turn candidates: eos_token plus the added tokens marked special', () => {
    const spec = chatTemplateFromConfig(configText({ eos: '<|im_end|>', specials: ['<|im_start|>', '<|im_end|>'], nonSpecial: ['<think>'], template: templateText('smollm2') }));
    expect(spec.endOfTurnCandidates).toEqual(['<|im_end|>', '<|im_start|>']);
  });

  it('a trailing newline of the template file is dropped (Jinja keep_trailing_newline=False)', () => {
    const t = new ChatTemplate(chatTemplateFromConfig('{}', { jinjaFile: '{% for m in messages %}{{ m.content }}{% endfor %}\n' }));
    expect(t.render(msgs)).toBe('QA');
  });
});
