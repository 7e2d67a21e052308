// Property-based fuzzing of tokenizer.json loading (docs/failure-scenarios.md#a10) and of byte-level BPE round
// trips. Two small valid tokenizers — the demo GPT-2 tokenizer shrunk to its 256 byte tokens and first
// merges, and one trained here — are mutated as JSON trees (removed, renamed, duplicated keys; wrong
// types; hostile ids; broken, foreign and dangling merges; added tokens with odd flags; other
// pre-tokenizer / decoder / normalizer types; deep nesting) and as bytes (truncation, flips, non-UTF-8
// decoded the way a browser's `File.text()` does, BOMs, junk). fromTokenizerJson must return a tokenizer
// or throw a TokenizerError, nothing else; a tokenizer it returns must encode to ids it knows and decode
// without throwing; and byte-level BPE must round-trip any Unicode text exactly (fc.string with
// unit 'binary' — fast-check's full-Unicode strings) whenever the file keeps the byte alphabet, has no
// prefix space and no whitespace-stripping added tokens.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Verdicts } from './verdicts';
import { BYTE_TO_CHAR, fromTokenizerJson, MAX_TOKEN_ID, TokenizerError, trainByteLevelBpe, type ByteLevelBpeTokenizer } from '../../../src/io/tokenizer';
import { applyBytes, applyTree, byteMutation, heapGrowth, Obj, params, parseJ, Raw, stringify, treeMutation, type J, type TreeMutation } from './json';

const NUM_RUNS = { mutants: 1500, roundTrip: 1000, pieces: 500 } as const;
const SEED = { mutants: 0x70c1, roundTrip: 0x70c2, pieces: 0x70c3 } as const;

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] } & Record<string, unknown>;
  added_tokens: Record<string, unknown>[];
  [k: string]: unknown;
}

/** The demo tokenizer cut to the byte alphabet plus the first `keep` merges whose parts survive. */
function shrunkDemo(keep: number): string {
  const full = JSON.parse(readFileSync(new URL('../../../public/demo/gpt2-fortunes/tokenizer.json', import.meta.url), 'utf8')) as TokenizerJson;
  const kept = new Set(BYTE_TO_CHAR);
  const merges: string[] = [];
  for (const m of full.model.merges) {
    const [a, b] = typeof m === 'string' ? m.split(' ') : m;
    if (merges.length >= keep) break;
    if (!kept.has(a) || !kept.has(b)) continue;
    kept.add(a + b);
    merges.push(`${a} ${b}`);
  }
  for (const t of full.added_tokens) kept.add(t.content as string);
  const vocab = Object.fromEntries(Object.entries(full.model.vocab).filter(([t]) => kept.has(t)));
  return JSON.stringify({ ...full, model: { ...full.model, vocab, merges } });
}

const TRAINED = JSON.stringify(trainByteLevelBpe(['hello world, hello there. hello wörld! 你好 😀😀 <|endoftext|>'], 300, { minFrequency: 1 }));
const BASES = [shrunkDemo(120), TRAINED];

// ---------------------------------------------------------------------------------------------------
// Mutations specific to tokenizer.json

type TokMutation =
  | TreeMutation
  | { op: 'vocabId'; at: number; value: number }
  | { op: 'merge'; left: number; right: number; form: 'string' | 'pair' | 'junk'; junk: number }
  | { op: 'added'; content: string; id: number; lstrip: boolean; rstrip: boolean; special: boolean; normalized: boolean }
  | { op: 'component'; where: 'pre_tokenizer' | 'decoder' | 'normalizer'; value: number };

const ID_VALUES: J[] = [-1, 1.5, 2 ** 24, 2 ** 24 - 1, 1e12, new Raw('1e400'), '7', null, 0, 255, 256, 1023];
const JUNK_MERGES: J[] = ['', ' ', 'a', 'a b c', 'Ġ  t', ['a'], ['a', 'b', 'c'], [1, 2], ['', 'a'], null, 5, new Obj([])];
const COMPONENTS: J[] = [
  null, new Obj([]), new Obj([['type', 'ByteLevel'], ['add_prefix_space', true]]), new Obj([['type', 'ByteLevel'], ['add_prefix_space', 'no']]),
  new Obj([['type', 'ByteLevel'], ['add_prefix_space', false], ['use_regex', false]]), new Obj([['type', 'Metaspace']]),
  new Obj([['type', 'Sequence'], ['pretokenizers', []]]), new Obj([['type', 'NFC']]), new Obj([['type', 7]]), 'ByteLevel', [],
];

const tokMutation: fc.Arbitrary<TokMutation> = fc.oneof(
  { weight: 3, arbitrary: treeMutation(['model', 'vocab', 'merges', 'type', 'added_tokens', 'pre_tokenizer', 'decoder', 'normalizer', 'unk_token', 'id', 'content']) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('vocabId' as const), at: fc.nat(), value: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('merge' as const), left: fc.nat(), right: fc.nat(), form: fc.constantFrom('string' as const, 'pair' as const, 'junk' as const), junk: fc.nat(JUNK_MERGES.length - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('added' as const),
      content: fc.oneof(fc.constantFrom('<|endoftext|>', 'h', 'Ġ', ' ', '<pad>', ''), fc.string({ unit: 'binary', maxLength: 4 })),
      id: fc.oneof(fc.nat(1100), fc.constantFrom(-1, 2 ** 24)),
      lstrip: fc.boolean(),
      rstrip: fc.boolean(),
      special: fc.boolean(),
      normalized: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('component' as const), where: fc.constantFrom('pre_tokenizer' as const, 'decoder' as const, 'normalizer' as const), value: fc.nat(COMPONENTS.length - 1) }) },
);

const field = (o: J, key: string): [string, J] | undefined => (o instanceof Obj ? o.entries.find(([k]) => k === key) : undefined);

function applyTok(holder: { root: J }, m: TokMutation): void {
  const model = field(holder.root, 'model')?.[1];
  const vocab = field(model ?? null, 'vocab')?.[1];
  const merges = field(model ?? null, 'merges')?.[1];
  const tokens = vocab instanceof Obj ? vocab.entries.map(([k]) => k) : ['a'];
  switch (m.op) {
    case 'vocabId': {
      if (!(vocab instanceof Obj) || !vocab.entries.length) return;
      const e = vocab.entries[m.at % vocab.entries.length];
      // Hostile ids, or another token's id (a duplicate).
      e[1] = m.value % 2 ? ID_VALUES[m.value % ID_VALUES.length] : vocab.entries[m.value % vocab.entries.length][1];
      return;
    }
    case 'merge': {
      if (!Array.isArray(merges)) return;
      const [a, b] = [tokens[m.left % tokens.length], tokens[m.right % tokens.length]];
      merges.splice(m.left % (merges.length + 1), 0, m.form === 'string' ? `${a} ${b}` : m.form === 'pair' ? [a, b] : JUNK_MERGES[m.junk]);
      return;
    }
    case 'added': {
      const added = field(holder.root, 'added_tokens')?.[1];
      if (!Array.isArray(added)) return;
      const { content, id, lstrip, rstrip, special, normalized } = m;
      added.push(new Obj([['id', id], ['content', content], ['single_word', false], ['lstrip', lstrip], ['rstrip', rstrip], ['normalized', normalized], ['special', special]]));
      return;
    }
    case 'component': {
      if (!(holder.root instanceof Obj)) return;
      const e = field(holder.root, m.where);
      if (e) e[1] = COMPONENTS[m.value];
      else holder.root.entries.push([m.where, COMPONENTS[m.value]]);
      return;
    }
    default:
      applyTree(holder, m);
  }
}

// ---------------------------------------------------------------------------------------------------

/** Whether byte-level BPE must reproduce any text: every byte token, no prefix space, no stripping tokens. */
function roundTrips(tok: ByteLevelBpeTokenizer, text: string): boolean {
  if (tok.addPrefixSpace || BYTE_TO_CHAR.some((c) => tok.tokenToId(c) === undefined)) return false;
  const added = (JSON.parse(text) as { added_tokens?: unknown }).added_tokens;
  return !Array.isArray(added) || !added.some((t: { lstrip?: unknown; rstrip?: unknown } | null) => t?.lstrip === true || t?.rstrip === true);
}

/** Heap a load may take beyond its input: the files here are ≤ 20 KB; real growth is ~1 MB. */
const HEAP_LIMIT = 32 << 20;

function load(text: string): ByteLevelBpeTokenizer | TokenizerError {
  let out: ByteLevelBpeTokenizer | TokenizerError | undefined;
  const grew = heapGrowth(() => {
    try {
      out = fromTokenizerJson(text);
    } catch (err) {
      if (err instanceof TokenizerError) out = err;
      else throw new Error(`untyped error leaked: ${String(err)}`, { cause: err });
    }
  });
  expect(grew, `heap bytes allocated loading a ${text.length}-character file`).toBeLessThan(HEAP_LIMIT);
  return out as ByteLevelBpeTokenizer | TokenizerError;
}

function checkEncodeDecode(tok: ByteLevelBpeTokenizer, s: string, exact: boolean): void {
  const ids = tok.encode(s);
  for (const id of ids) {
    expect(Number.isInteger(id) && id >= 0 && id < tok.vocabSize, `id ${id} of ${JSON.stringify(s)}`).toBe(true);
    expect(tok.idToTokenString(id), `id ${id} names no token`).toBeDefined();
  }
  const back = tok.decode(ids);
  if (exact) expect(back).toBe(s);
}

const textArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('hello', ' world', ' ', '\n', 'ö', '你好', '😀', '<|endoftext|>', "'s", '\u0000', '\r\n', '  '), maxLength: 12 }),
);

describe('tokenizer.json fuzz (fast-check)', () => {
  it('both bases load and are round-trip eligible', () => {
    for (const text of BASES) {
      const tok = load(text);
      expect(tok).not.toBeInstanceOf(TokenizerError);
      expect(roundTrips(tok as ByteLevelBpeTokenizer, text)).toBe(true);
    }
  });

  it('regression: one id near MAX_TOKEN_ID does not allocate an id table of that size', () => {
    // Found by the heap probe of this file (seed 0x70c1 'vocabId' mutations): a 3 KB tokenizer.json whose
    // vocabulary holds the byte alphabet plus {"Ā": 16777215} made the tokenizer allocate a dense
    // 16,777,216-slot id → token array, ≈134 MB of heap (40,000× the file). Minimal counterexample:
    const vocab: Record<string, number> = Object.fromEntries(BYTE_TO_CHAR.map((c, i) => [c, i]));
    vocab['ĀĀ'] = MAX_TOKEN_ID - 1;
    const text = JSON.stringify({
      model: { type: 'BPE', vocab, merges: [] },
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false },
      decoder: { type: 'ByteLevel' },
    });
    const tok = load(text);
    expect(tok).not.toBeInstanceOf(TokenizerError);
    const t = tok as ByteLevelBpeTokenizer;
    expect(t.vocabSize).toBe(MAX_TOKEN_ID);
    expect(t.idToTokenString(MAX_TOKEN_ID - 1)).toBe('ĀĀ');
    expect(t.decode([MAX_TOKEN_ID - 1, 104, 105])).toBe('\0\0hi');
  });

  it(`mutated tokenizer.json: a working tokenizer or a TokenizerError (${NUM_RUNS.mutants} runs, seed ${SEED.mutants})`, () => {
    const verdicts = new Verdicts();
    fc.assert(
      fc.property(fc.nat(BASES.length - 1), fc.array(tokMutation, { minLength: 1, maxLength: 3 }), fc.array(byteMutation, { maxLength: 1 }), textArb, (base, ms, bs, sample) => {
        const holder = { root: parseJ(BASES[base]) };
        for (const m of ms) applyTok(holder, m);
        let text = stringify(holder.root);
        // Bytes as a browser reads a picked file: File.text() decodes with replacement, never throws.
        if (bs.length) {
          let b: Uint8Array = new TextEncoder().encode(text);
          for (const m of bs) b = applyBytes(b, m);
          text = new TextDecoder().decode(b);
        }
        const tok = load(text);
        verdicts.add(tok instanceof TokenizerError ? tok.code : 'loaded');
        if (tok instanceof TokenizerError) {
          expect(tok.message).toContain('tokenizer.json');
          return;
        }
        checkEncodeDecode(tok, sample, roundTrips(tok, text));
      }),
      params(SEED.mutants, NUM_RUNS.mutants),
    );
    verdicts.expectExactly(['loaded', 'MODEL_TOKENIZER_JSON', 'MODEL_TOKENIZER_MERGES', 'MODEL_TOKENIZER_SCHEMA', 'MODEL_TOKENIZER_UNSUPPORTED', 'MODEL_TOKENIZER_VOCAB']);
    expect(verdicts.count('loaded')).toBeGreaterThan(NUM_RUNS.mutants / 40); // ~5% load at this seed
  });

  it(`byte-level BPE round-trips any Unicode text exactly (${NUM_RUNS.roundTrip} runs, seed ${SEED.roundTrip})`, () => {
    const toks = BASES.map((t) => fromTokenizerJson(t));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        for (const tok of toks) checkEncodeDecode(tok, s, true);
      }),
      params(SEED.roundTrip, NUM_RUNS.roundTrip),
    );
  });

  it(`…and text built from merge-heavy pieces and added tokens (${NUM_RUNS.pieces} runs, seed ${SEED.pieces})`, () => {
    const toks = BASES.map((t) => fromTokenizerJson(t));
    fc.assert(
      fc.property(textArb, (s) => {
        for (const tok of toks) checkEncodeDecode(tok, s, true);
      }),
      params(SEED.pieces, NUM_RUNS.pieces),
    );
  });
});
