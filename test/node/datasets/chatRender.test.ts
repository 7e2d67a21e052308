// Chat templates rendered as transformers renders them. Each expected string was written by hand from the
// template's semantics (Jinja with trim_blocks and lstrip_blocks, the special-token strings of the family),
// not by running the template; the spans are the assistant replies with their end-of-turn token.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, ChatTemplateError, renderWithSpans, type ChatMessage } from '../../../src/io/chat';
import { family } from './chatHelpers';

const sys = (content: string): ChatMessage => ({ role: 'system', content });
const user = (content: string): ChatMessage => ({ role: 'user', content });
const bot = (content: string): ChatMessage => ({ role: 'assistant', content });

const CONV = [sys('Be brief.'), user('Hi there'), bot('Hello!'), user('2+2?'), bot('4')];
const NO_SYS = CONV.slice(1);

function trainedTexts(text: string, spans: { start: number; end: number }[]): string[] {
  return spans.map((s) => text.slice(s.start, s.end));
}

describe('chat templates render as transformers does, with assistant spans', () => {
  it('Qwen2.5 (ChatML): given system, default system, <|im_end|> trained, its newline not', () => {
    const t = family('qwen2.5');
    const r = renderWithSpans(t, CONV);
    expect(r.text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n' +
        '<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n',
    );
    expect(r.method).toBe('prefix');
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!<|im_end|>', '4<|im_end|>']);
    expect(t.render(NO_SYS.slice(0, 1), true)).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('SmolLM2 (ChatML): default system only when none is given', () => {
    const t = family('smollm2');
    const r = renderWithSpans(t, NO_SYS);
    expect(r.text).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
        '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n',
    );
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!<|im_end|>', '4<|im_end|>']);
    expect(renderWithSpans(t, CONV).text.startsWith('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n')).toBe(true);
  });

  it('Qwen3: the last reply gets a <think> block (empty or from the content), earlier replies lose theirs', () => {
    const t = family('qwen3');
    const one = renderWithSpans(t, [user('Hi there'), bot('Hello!')]);
    expect(one.text).toBe('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n');
    // the model generates the think block after the generation prompt, so it is trained
    expect(trainedTexts(one.text, one.spans)).toEqual(['<think>\n\n</think>\n\nHello!<|im_end|>']);

    const multi = renderWithSpans(t, [user('Hi there'), bot('<think>\ngreet\n</think>\n\nHello!'), user('2+2?'), bot('<think>\nadd\n</think>\n\n4')]);
    expect(multi.text).toBe(
      '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n' +
        '<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nadd\n</think>\n\n4<|im_end|>\n',
    );
    // first reply: its content is not in the text verbatim (the template dropped the reasoning): the span still
    // runs from the generation prompt to the first end-of-turn token
    expect(trainedTexts(multi.text, multi.spans)).toEqual(['Hello!<|im_end|>', '<think>\nadd\n</think>\n\n4<|im_end|>']);
  });

  it('Qwen3 with enable_thinking=false: the empty think block is part of the generation prompt, so not trained', () => {
    const t = new ChatTemplate(family('qwen3').spec, { enable_thinking: false });
    expect(t.render([user('Hi there')], true)).toBe('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
    const r = renderWithSpans(t, [user('Hi there'), bot('Hello!')]);
    expect(r.text).toBe('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n');
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!<|im_end|>']);
  });

  it('Llama-3: bos once, content trimmed, <|eot_id|> trained', () => {
    const t = family('llama3');
    const r = renderWithSpans(t, [sys('Be brief.'), user(' Hi there '), bot('\nHello!  '), user('2+2?'), bot('4')]);
    expect(r.text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>',
    );
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!<|eot_id|>', '4<|eot_id|>']);
  });

  it('Llama-2: <<SYS>> folded into the first [INST], bos per turn, " reply </s>" trained', () => {
    const t = family('llama2');
    const r = renderWithSpans(t, CONV);
    expect(r.text).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] 2+2? [/INST] 4 </s>');
    // no generation prompt in this template: the span starts right after [/INST], its space included
    expect(trainedTexts(r.text, r.spans)).toEqual([' Hello! </s>', ' 4 </s>']);
  });

  it('Mistral v0.1: "[INST] … [/INST]reply</s> "', () => {
    const t = family('mistral-v0.1');
    const r = renderWithSpans(t, NO_SYS);
    expect(r.text).toBe('<s>[INST] Hi there [/INST]Hello!</s> [INST] 2+2? [/INST]4</s> ');
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!</s>', '4</s>']);
  });

  it('a template\'s raise_exception refuses the conversation with the template\'s words', () => {
    // a system message at index 0 breaks Mistral v0.1's user/assistant alternation check first
    expect(() => renderWithSpans(family('mistral-v0.1'), CONV)).toThrow(/refused the conversation: Conversation roles must alternate/);
    expect(() => renderWithSpans(family('llama2'), [user('a'), user('b'), bot('c')])).toThrow(ChatTemplateError);
    expect(() => renderWithSpans(family('llama2'), [user('a'), user('b'), bot('c')])).toThrow(/Conversation roles must alternate/);
  });

  it('{% generation %} blocks give the spans exactly, and the markers never reach the text', () => {
    const t = family('qwen2.5-generation');
    expect(t.hasGenerationBlocks).toBe(true);
    const r = renderWithSpans(t, CONV);
    expect(r.method).toBe('generation');
    // same text as the unpatched template
    expect(r.text).toBe(family('qwen2.5').render(CONV));
    // this template puts the newline after <|im_end|> inside the block, so it is trained too
    expect(trainedTexts(r.text, r.spans)).toEqual(['Hello!<|im_end|>\n', '4<|im_end|>\n']);
    expect(t.render(CONV)).toBe(r.text);
  });
});
