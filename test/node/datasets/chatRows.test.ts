// Chat .jsonl rows through the dataset layer: "messages" and ShareGPT "conversations" rows, each rejected row
// named with its line and reason, chat and text rows not mixed, and chat datasets kept out of the text path.
import { describe, expect, it } from 'vitest';
import { buildLmSequences, lmTokenizer, parseTextDataset } from '../../../src/io/datasets';
import { chatTokenizer } from './chatHelpers';
import { catchDatasetError, enc } from './helpers';

const line = (v: unknown): string => JSON.stringify(v);
const GOOD = { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] };

function reasons(lines: string[]): Array<[number, string]> {
  const ds = parseTextDataset(enc(lines.join('\n')), 'chat.jsonl');
  return ds.rejected.map((r) => [r.line, r.reason]);
}

describe('chat rows', () => {
  it('"messages" rows become conversations with their line numbers; blank lines are skipped', () => {
    const ds = parseTextDataset(enc([line(GOOD), '', line({ messages: [{ role: 'user', content: 'x', name: 'extra keys ignored' }, { role: 'assistant', content: 'y' }] })].join('\n')), 'c.jsonl');
    expect(ds.examples).toEqual([]);
    expect(ds.rejected).toEqual([]);
    expect(ds.chats).toEqual([
      { line: 1, messages: GOOD.messages },
      { line: 3, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }] },
    ]);
  });

  it('ShareGPT "conversations" map system/human/gpt to system/user/assistant, text untouched', () => {
    const row = { conversations: [{ from: 'system', value: 'S ' }, { from: 'human', value: ' Q' }, { from: 'gpt', value: 'A\n' }] };
    const ds = parseTextDataset(enc(line(row)), 'share.jsonl');
    expect(ds.chats).toEqual([{ line: 1, messages: [{ role: 'system', content: 'S ' }, { role: 'user', content: ' Q' }, { role: 'assistant', content: 'A\n' }] }]);
  });

  it('names every rejected line and its reason', () => {
    const got = reasons([
      line(GOOD), // 1
      '{"messages": [', // 2 bad JSON
      line({ messages: [{ role: 'user', content: 'Q' }, { role: 'bot', content: 'A' }] }), // 3
      line({ messages: [] }), // 4
      line({ messages: [{ role: 'user', content: 'Q' }] }), // 5
      line({ messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: ['A'] }] }), // 6
      line({ messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: '  ' }] }), // 7
      line({ messages: 'hi' }), // 8
      line({ messages: [{ role: 'user', content: 'Q' }, 'A'] }), // 9
      line({ messages: [{ content: 'Q' }, { role: 'assistant', content: 'A' }] }), // 10
      line({ messages: [{ role: 'user' }, { role: 'assistant', content: 'A' }] }), // 11
      line({ messages: [{ role: 'user', content: 'Q' }, { role: 'system', content: 'S' }, { role: 'assistant', content: 'A' }] }), // 12
      line({ messages: [{ role: 'system', content: 'S' }, { role: 'assistant', content: 'A' }] }), // 13
      line({ conversations: [{ from: 'human', value: 'Q' }, { from: 'assistant', value: 'A' }] }), // 14
      line({ conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt', value: 7 }] }), // 15
      line({ messages: GOOD.messages, conversations: [] }), // 16
      line({ text: 'plain text row' }), // 17
      line([1, 2]), // 18
      line({ messages: [{ role: 7, content: 'Q' }, { role: 'assistant', content: 'A' }] }), // 19
    ]);
    expect(got).toEqual([
      [2, expect.stringMatching(/^invalid JSON: /)],
      [3, 'messages[1]: unknown role "bot" (expected system, user, assistant)'],
      [4, 'empty conversation: "messages" has no messages'],
      [5, 'no assistant turn: nothing to train on'],
      [6, 'messages[1].content must be a string, got array'],
      [7, 'messages[1] (assistant) has empty content'],
      [8, 'field "messages" must be an array, got string'],
      [9, 'messages[1] must be an object, got string'],
      [10, 'messages[0] has no "role"'],
      [11, 'messages[0] has no "content"'],
      [12, 'messages[1]: a system message must come first'],
      [13, 'no user turn: the conversation has no prompt'],
      [14, 'conversations[1]: unknown from "assistant" (expected system, human, gpt)'],
      [15, 'conversations[1].value must be a string, got number'],
      [16, 'row has both "messages" and "conversations"; keep one'],
      [17, 'not a chat row (no "messages" or "conversations") in a chat file (line 1 is a chat row)'],
      [18, 'not a JSON object (got array)'],
      [19, 'messages[0].role must be a string, got number'],
    ]);
  });

  it('a chat row in a text/instruction file is rejected, the file stays a text file', () => {
    const ds = parseTextDataset(enc([line({ text: 'hello' }), line(GOOD)].join('\n')), 't.jsonl');
    expect(ds.chats).toBeUndefined();
    expect(ds.examples).toEqual([{ prompt: '', completion: 'hello' }]);
    expect(ds.rejected).toEqual([{ file: 't.jsonl', line: 2, reason: 'a chat row ("messages" or "conversations") in a text/instruction file (line 1 is not a chat row)' }]);
  });

  it('a chat file with every row rejected is one DATA_JSONL error naming the first', () => {
    const e = catchDatasetError(() => parseTextDataset(enc([line({ messages: [] }), line({ messages: [{ role: 'user', content: 'Q' }] })].join('\n')), 'c.jsonl'));
    expect(e.code).toBe('DATA_JSONL');
    expect(e.line).toBe(1);
    expect(e.message).toBe('DATA_JSONL in c.jsonl, line 1: 0 usable examples: all 2 rows were rejected; first at line 1: empty conversation: "messages" has no messages');
  });

  it('a __proto__ key is a plain field, not the prototype', () => {
    const ds = parseTextDataset(enc('{"__proto__": {"messages": []}, "messages": [{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}'), 'p.jsonl');
    expect(ds.chats?.[0].messages).toEqual([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }]);
  });

  it('the text sequence builder refuses a chat dataset instead of training on nothing', () => {
    const ds = parseTextDataset(enc(line(GOOD)), 'c.jsonl');
    const e = catchDatasetError(() => buildLmSequences(ds, lmTokenizer(chatTokenizer()), 16));
    expect(e.code).toBe('DATA_ARGS');
    expect(e.message).toMatch(/chat template.*buildChatSequences/);
  });
});
