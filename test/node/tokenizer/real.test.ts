// Real tokenizer files of each family (realFiles.ts) against the reference tokenizer: HF tokenizers itself —
// the Rust crate (0.22.2) that Python `tokenizers` wraps, through its Node binding @anush008/tokenizers —
// which is independent of both our hand-written BPE and Tokenizers.js. Same ids on a multilingual, emoji,
// digits, white-space and special-token corpus, with and without special tokens, and the same decoding.
// The BOS/EOS rules of tokenizer_config.json are transformers' (not the Rust crate's): those cases are
// checked against the ids transformers' rule gives, written out by hand below.
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer as TokenizersJs } from '@huggingface/tokenizers';
import { ByteLevelBpeTokenizer, LibraryTokenizer, TokenizerError, loadTokenizer, type TextTokenizer } from '../../../src/io/tokenizer';
import { mulberry32 } from '../../helpers/random';
import { englishParagraphs } from './corpus';
import { gpt2TokenizerJson, realTokenizerFiles, type RealFamily } from './realFiles';

type HfRust = typeof import('@anush008/tokenizers').Tokenizer;
const { Tokenizer: Rust } = createRequire(import.meta.url)('@anush008/tokenizers') as { Tokenizer: HfRust };
type RustTokenizer = InstanceType<HfRust>;

const COMMON: readonly string[] = [
  '',
  'Hello world',
  ' Hello  world ',
  "I'M sure you'VE heard they'll say it's John's, DON'T we'd",
  'Numbers: 0 1 12 123 1234 12345 123456 3.14159 -42 1e10 1,000,000 ½ ² ٣٤٥ ௰',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷🇩🇪 keycap 1️⃣ 🫠',
  '中文字符和日本語の文章、한국어 텍스트。',
  'Ελληνικά Русский עברית العربية हिन्दी ภาษาไทย Tiếng Việt',
  'café naïve e\u0301 a\u0308\u0323 Ångström',
  'astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𠀀𠀁',
  'tabs\tbetween\t\twords\t',
  'line one\nline two\n\n\nline five\r\nwindows\r\n\r\nend',
  '    four spaces   three  two ',
  ' '.repeat(33) + 'x' + ' '.repeat(17),
  '\n'.repeat(9) + 'end\n',
  'nel\u0085here bom\ufeffthere nbsp\u00a0x ideographic\u3000space line\u2028sep',
  'x |\n\n\n\n\ufeffy',
  'control \u0000 \u0001 \u007f \u00ad chars',
  'code: const x = a?.b ?? {}; // ok\n\tif (x) { return [1, 2]; }',
  'ǅ Titlecase ǈ, ß ẞ İ ı',
];

/** Added-token contents of the file around and inside text (matched whole, lstrip/rstrip as the file says). */
function specialCases(contents: readonly string[]): string[] {
  const [a, b, c] = contents;
  return [`${a}`, `${a}hi${b}`, ` ${a} x ${b} `, `doc${a}${a}doc`, `${c ?? a}user\nhello${b}\n`, `almost ${a.slice(0, -1)} and ${a.slice(1)}`];
}

function randomStrings(n: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const alphabet = ['a', 'Z', ' ', '  ', '\t', '\n', '\r\n', '0', '42', "'s", "'LL", 'é', '中', '😀', '\u00a0', '.', '!?', '\ufeff', '\u0085', 'ß'];
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
}

async function rustIds(rust: RustTokenizer, text: string, addSpecialTokens: boolean): Promise<number[]> {
  return (await rust.encode(text, null, { addSpecialTokens })).getIds();
}

async function expectSameAsRust(ours: TextTokenizer, rust: RustTokenizer, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    const label = JSON.stringify(text.slice(0, 60));
    for (const addSpecialTokens of [false, true]) {
      const ids = ours.encode(text, { addSpecialTokens });
      expect(ids, `${label} addSpecialTokens=${addSpecialTokens}`).toEqual(await rustIds(rust, text, addSpecialTokens));
      for (const skip of [false, true]) {
        const expected = ids.length === 0 ? '' : await rust.decode(ids, skip);
        expect(ours.decode(ids, { skipSpecialTokens: skip, cleanUpTokenizationSpaces: false }), `decode ${label}`).toBe(expected);
      }
    }
  }
}

const CORPUS_SAMPLE = englishParagraphs(20_000, 7);

describe.each<[RealFamily, string[]]>([
  ['llama3', ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|eot_id|>']],
  ['qwen3', ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>']],
  ['llama2', ['<s>', '</s>', '<unk>']],
])('%s: real tokenizer files vs HF tokenizers (Rust)', (family, specials) => {
  let ours: TextTokenizer;
  let rust: RustTokenizer;
  let files: ReturnType<typeof realTokenizerFiles>;

  beforeAll(() => {
    files = realTokenizerFiles(family);
    ours = loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig });
    rust = Rust.fromFile(files.tokenizerJsonPath);
  }, 120_000);

  it('goes through Tokenizers.js (not the GPT-2 path)', () => {
    expect(ours).toBeInstanceOf(LibraryTokenizer);
  });

  it('gives the same ids and text on the multilingual / emoji / digits / white-space corpus', async () => {
    await expectSameAsRust(ours, rust, COMMON);
  }, 120_000);

  it('matches special tokens in the text as the reference does', async () => {
    await expectSameAsRust(ours, rust, specialCases(specials));
  }, 60_000);

  it('gives the same ids on English paragraphs and seeded random strings', async () => {
    await expectSameAsRust(ours, rust, [...CORPUS_SAMPLE, ...randomStrings(300, family.length)]);
  }, 120_000);

  it('finds special tokens by their string', () => {
    for (const s of specials) expect(ours.tokenToId(s), s).toBe(rust.tokenToId(s) ?? undefined);
  });
});

describe('SentencePiece byte fallback (Llama-2 / TinyLlama)', () => {
  it('encodes characters outside the vocabulary as <0xNN> byte tokens and decodes them back', () => {
    const f = realTokenizerFiles('llama2');
    const t = loadTokenizer({ tokenizerJson: f.tokenizerJson, tokenizerConfig: f.tokenizerConfig });
    const ids = t.encode('🫠');
    // U+1FAE0 is F0 9F AB A0 in UTF-8; <0xNN> has id 3 + NN in Llama-2's vocabulary.
    expect(ids.slice(-4).map((id) => t.idToTokenString(id))).toEqual(['<0xF0>', '<0x9F>', '<0xAB>', '<0xA0>']);
    expect(t.decode(ids)).toBe('🫠');
  }, 60_000);
});

describe('BOS/EOS rules (transformers fast tokenizers)', () => {
  const llama2 = realTokenizerFiles('llama2');
  const withConfig = (patch: object): TextTokenizer =>
    loadTokenizer({ tokenizerJson: llama2.tokenizerJson, tokenizerConfig: JSON.stringify({ ...JSON.parse(llama2.tokenizerConfig), ...patch }) });

  it('LlamaTokenizer: add_bos_token / add_eos_token from the config replace the post_processor', () => {
    const plain = withConfig({}).encode('Hi there');
    expect(withConfig({}).encode('Hi there', { addSpecialTokens: true })).toEqual([1, ...plain]);
    expect(withConfig({ add_bos_token: false }).encode('Hi there', { addSpecialTokens: true })).toEqual(plain);
    expect(withConfig({ add_eos_token: true }).encode('Hi there', { addSpecialTokens: true })).toEqual([1, ...plain, 2]);
    // AddedToken objects are accepted for bos_token / eos_token.
    const t = withConfig({ add_eos_token: true, add_bos_token: false, eos_token: { content: '<s>', special: true } });
    expect(t.encode('Hi there', { addSpecialTokens: true })).toEqual([...plain, 1]);
    expect(t.eosTokenId).toBe(1);
  }, 60_000);

  it('LlamaTokenizer: defaults (add_bos_token true, add_eos_token false) when the config does not say', () => {
    const t = loadTokenizer({ tokenizerJson: llama2.tokenizerJson, tokenizerConfig: '{"tokenizer_class": "LlamaTokenizerFast"}' });
    expect(t.encode('x', { addSpecialTokens: true })).toEqual([1, ...t.encode('x')]);
    expect([t.bosTokenId, t.eosTokenId]).toEqual([1, 2]);
  }, 60_000);

  it('other classes: tokenizer.json post_processor wins, add_bos_token in the config is ignored', () => {
    const q = realTokenizerFiles('qwen3');
    const cfg = JSON.parse(q.tokenizerConfig);
    const t = loadTokenizer({ tokenizerJson: q.tokenizerJson, tokenizerConfig: JSON.stringify({ ...cfg, add_bos_token: true, add_eos_token: true }) });
    expect(t.encode('Hi', { addSpecialTokens: true })).toEqual(t.encode('Hi'));
    expect(t.bosTokenId).toBeNull(); // Qwen's config has "bos_token": null
    expect(t.eosTokenId).toBe(t.tokenToId('<|im_end|>'));
    // Without a config the Llama-2 file's own TemplateProcessing adds <s>.
    const l = loadTokenizer({ tokenizerJson: llama2.tokenizerJson });
    expect(l.encode('Hi', { addSpecialTokens: true })).toEqual([1, ...l.encode('Hi')]);
  }, 120_000);

  it('a bos_token the vocabulary lacks is one clear error naming tokenizer_config.json', () => {
    expect(() => withConfig({ bos_token: '<bos>' })).toThrowError(/MODEL_TOKENIZER_VOCAB in tokenizer_config\.json: the bos token "<bos>"/);
  }, 60_000);

  it('an unsupported component is refused by name', () => {
    const root = JSON.parse(llama2.tokenizerJson);
    root.normalizer = { type: 'BertNormalizer' };
    expect(() => loadTokenizer({ tokenizerJson: JSON.stringify(root) })).toThrowError(TokenizerError);
    expect(() => loadTokenizer({ tokenizerJson: JSON.stringify(root) })).toThrowError(/normalizer\.type is "BertNormalizer"/);
  }, 60_000);
});

describe('GPT-2 (OpenAI files): hand-written path', () => {
  let ours: TextTokenizer;
  let rust: RustTokenizer;
  let js: TokenizersJs;
  beforeAll(() => {
    const json = gpt2TokenizerJson();
    ours = loadTokenizer({ tokenizerJson: JSON.stringify(json) });
    rust = Rust.fromString(JSON.stringify(json));
    js = new TokenizersJs(json, { clean_up_tokenization_spaces: false });
  }, 60_000);

  it('loads on the hand-written path', () => {
    expect(ours).toBeInstanceOf(ByteLevelBpeTokenizer);
  });

  it('gives the same ids and text as HF tokenizers (Rust)', async () => {
    await expectSameAsRust(ours, rust, [...COMMON, ...specialCases(['<|endoftext|>', '<|endoftext|>']), ...CORPUS_SAMPLE, ...randomStrings(300, 3)]);
  }, 120_000);

  it('Tokenizers.js differs from HF where a BOM follows white space (why GPT-2 stays hand-written)', async () => {
    const text = 'x |\n\n\n\n\ufeffy';
    const reference = await rustIds(rust, text, false);
    expect(ours.encode(text)).toEqual(reference);
    expect(js.encode(text, { add_special_tokens: false }).ids).not.toEqual(reference);
  });
});

// No package ships SmolLM2's or Mistral's own files; their kinds are built here from real vocabularies with
// the components those files have, and checked against the same Rust reference.
describe('by kind: SmolLM2-style and Mistral-style components on real vocabularies vs HF tokenizers (Rust)', () => {
  it('SmolLM2-style: Sequence[Digits(individual_digits), ByteLevel] over GPT-2 (Tokenizers.js path)', async () => {
    const json = gpt2TokenizerJson() as Record<string, unknown>;
    json.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    };
    const text = JSON.stringify(json);
    const ours = loadTokenizer({ tokenizerJson: text, tokenizerConfig: '{"tokenizer_class": "GPT2Tokenizer"}' });
    expect(ours).toBeInstanceOf(LibraryTokenizer);
    // Not the U+FEFF-after-white-space texts: there Tokenizers.js's ByteLevel regex differs (see below).
    const texts = [...COMMON, ...CORPUS_SAMPLE.slice(0, 20), '½ ² ³⁄₄ Ⅻ 〇 ٣'].filter((t) => !t.includes('\ufeff'));
    await expectSameAsRust(ours, Rust.fromString(text), texts);
  }, 120_000);

  it('Mistral-style: Metaspace pre-tokenizer and decoder (prepend_scheme "first") over Llama-2', async () => {
    const json = JSON.parse(realTokenizerFiles('llama2').tokenizerJson);
    json.normalizer = null;
    json.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    json.decoder = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
    const text = JSON.stringify(json);
    const ours = loadTokenizer({ tokenizerJson: text, tokenizerConfig: '{"tokenizer_class": "LlamaTokenizer"}' });
    const rust = Rust.fromString(text);
    const all = [...COMMON, ...specialCases(['<s>', '</s>']), ...CORPUS_SAMPLE.slice(0, 20)];
    // Known divergence (library.ts): Rust's Metaspace decoder drops every ▁ of the first token, Tokenizers.js
    // only the first, so texts starting with several spaces decode differently; their ids are still equal.
    const leadingSpaces = (t: string): boolean => /^ {2}/.test(t);
    await expectSameAsRust(ours, rust, all.filter((t) => !leadingSpaces(t)));
    for (const t of all.filter(leadingSpaces)) expect(ours.encode(t), t).toEqual(await rustIds(rust, t, false));
    const ids = ours.encode('    four');
    expect(await rust.decode(ids, false)).toBe(' four');
    expect(ours.decode(ids)).toBe('   four');
  }, 120_000);
});
