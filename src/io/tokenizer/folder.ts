// A model folder's tokenizer, whatever its family: tokenizer.json (+ tokenizer_config.json for the BOS/EOS
// rules) through loadTokenizer (auto.ts), else GPT-2's vocab.json + merges.txt; null when it has neither.
import { loadTokenizer, type TextTokenizer } from './auto';
import { fromVocabMerges } from './load';

/** The little of a model folder this needs (src/io/hfModel ModelDirSource has it). */
export interface TokenizerFolder {
  readonly names: readonly string[];
  read(name: string): Promise<ArrayBuffer | Uint8Array>;
}

export async function loadFolderTokenizer(source: TokenizerFolder): Promise<TextTokenizer | null> {
  const names = new Set(source.names);
  const text = async (n: string) => new TextDecoder().decode(await source.read(n));
  if (names.has('tokenizer.json')) {
    return loadTokenizer({
      tokenizerJson: await text('tokenizer.json'),
      ...(names.has('tokenizer_config.json') ? { tokenizerConfig: await text('tokenizer_config.json') } : {}),
    });
  }
  if (names.has('vocab.json') && names.has('merges.txt')) return fromVocabMerges(await text('vocab.json'), await text('merges.txt'));
  return null;
}
