// The ByteLevel pre-tokenizer: GPT-2's split regex, then (in the caller) each piece in byte-level form.
//
// HF tokenizers compiles `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` with
// Oniguruma, whose Unicode `\s` is the White_Space property (U+0009–000D, U+0020, U+0085, U+00A0, Zs, Zl,
// Zp). JavaScript's `\s` differs in two code points: it adds U+FEFF and lacks U+0085. We spell `\s` as
// `\p{White_Space}` so that text with NEL or a BOM next to a space splits as HF does; tokenizers.js keeps
// the JS `\s` and therefore differs from HF (and from us) on exactly those inputs (see the tests).

const WS = '\\p{White_Space}';

/** GPT-2's pattern with `\s` / `\S` as Oniguruma defines them; `g` for matchAll, `u` for \p{…}. */
export const GPT2_SPLIT_PATTERN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
  'gu',
);

export interface ByteLevelPreTokenizerOptions {
  /** Prepend a space to each text section that does not start with one (HF ByteLevel `add_prefix_space`). */
  addPrefixSpace: boolean;
  /** Split with GPT-2's regex; when false the whole section is one word (HF ByteLevel `use_regex`). */
  useRegex: boolean;
}

/**
 * Splits one section of text (the text between added tokens) into the words BPE sees, still as ordinary
 * strings. The pattern's last alternative `\s+` matches any remaining character class, so the pieces
 * always concatenate back to the (prefixed) section.
 */
export function splitWords(section: string, opts: ByteLevelPreTokenizerOptions): string[] {
  const text = opts.addPrefixSpace && !section.startsWith(' ') ? ` ${section}` : section;
  if (text.length === 0) return [];
  if (!opts.useRegex) return [text];
  const words: string[] = [];
  for (const m of text.matchAll(GPT2_SPLIT_PATTERN)) words.push(m[0]);
  return words;
}
