// Matches the tensors of a checkpoint against the parameters its config implies (docs/engineering.md#import-one-list:
// key sets and shapes asserted, every layout difference handled in one named list). The layout
// differences handled, and nothing else:
//  1. the wrapper prefix: `transformer.` (GPT2LMHeadModel.save_pretrained, distilgpt2) or `vit.`
//     (ViTForImageClassification) on backbone tensors, or none (Hub gpt2, ViTModel);
//  2. GPT-2 buffers `h.{i}.attn.bias` / `h.{i}.attn.masked_bias`, present or not: kept for export only;
//  3. the tied LM head: no `lm_head.weight`, or one equal to `wte.weight` (kept for export only);
//  4. Llama family: the `model.` prefix (LlamaForCausalLM & co.) or none (a bare LlamaModel); rotary
//     `inv_freq` buffers of old checkpoints kept for export only; the tied head as in 3, against
//     `embed_tokens.weight`;
//  5. ViT heads: a classifier of config.num_labels classes, or none (ViTModel, with an optional pooler
//     kept for export only); a requested class count other than the checkpoint's means a NEW head.
// Checks run in a fixed order so the error names the FIRST mismatch: expected parameters in model order
// (missing, then shape, then dtype), then the tied head, then leftover tensors in file order.
import type { SafetensorsTensor } from '../safetensors';
import type { Gpt2Config, LlamaConfig, VitConfig } from './config';
import { quote } from '../safetensors/errors';
import { ModelDirError } from './errors';
import {
  GPT2_BUFFER, GPT2_PREFIX, gpt2Parameters, LLAMA_BUFFER, LLAMA_PREFIX, llamaParameters, VIT_PREFIX, vitClassifier, vitParameters, vitPooler, type TensorSpec,
} from './layout';

export interface StoredTensor {
  /** Key as stored in the file (prefix included). */
  key: string;
  /** File that holds it (model.safetensors or a shard). */
  file: string;
  tensor: SafetensorsTensor;
}

export interface MatchInput {
  /** Every tensor of the checkpoint by original key, in file (or weight_map) order. */
  stored: ReadonlyMap<string, StoredTensor>;
  /** File named when a tensor is missing: model.safetensors, or the shard index. */
  weightsFile: string;
}

export interface Matched {
  /** Canonical name → tensor (F32 through `.data`, converted lazily from F16/BF16). */
  tensors: Map<string, SafetensorsTensor>;
  /** Canonical name → key in the file; export writes these names back. */
  originalKeys: Map<string, string>;
  /** Original key → tensor for everything kept but not a canonical parameter; exported unchanged. */
  passthrough: Map<string, SafetensorsTensor>;
  /** Wrapper prefix of the backbone tensors in the file ('' when bare). */
  prefix: string;
}

export interface Gpt2Match extends Matched {
  /** LM head = wte (no separate parameter). */
  tied: boolean;
}

export interface LlamaMatch extends Matched {
  /** LM head = embed_tokens (no separate parameter). */
  tied: boolean;
}

export interface VitHeadInfo {
  /** True when the app must create a classifier of `numClasses` classes (no weights are made here). */
  newHead: boolean;
  reason: 'no-classifier' | 'class-count' | null;
  numClasses: number;
  /** Classes of the checkpoint's classifier; null when it has none. */
  checkpointClasses: number | null;
}

export interface VitMatch extends Matched {
  head: VitHeadInfo;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** Bookkeeping shared by both families: which file keys were used, and how. */
class Matcher {
  readonly out: Matched;
  private readonly used = new Set<string>();

  constructor(
    private readonly input: MatchInput,
    prefix: string,
    /** Keys that are legitimately in a checkpoint even when not (yet) taken: excluded from hints. */
    private readonly known: (key: string) => boolean,
  ) {
    this.out = { tensors: new Map(), originalKeys: new Map(), passthrough: new Map(), prefix };
  }

  original(spec: TensorSpec): string {
    return spec.part === 'backbone' ? this.out.prefix + spec.name : spec.name;
  }

  has(spec: TensorSpec): boolean {
    return this.input.stored.has(this.original(spec));
  }

  /** Takes a required parameter: present, of the config's shape, in a readable dtype. */
  take(spec: TensorSpec): void {
    const key = this.original(spec);
    const s = this.input.stored.get(key);
    if (!s) {
      const stray = [...this.input.stored.keys()].find((k) => !this.known(k));
      const hint = stray === undefined ? '' : `; the checkpoint has tensors this config does not explain, e.g. ${quote(stray)}`;
      throw new ModelDirError('MODEL_TENSOR_MISSING', this.input.weightsFile, `missing parameter (expected shape ${fmt(spec.shape)})${hint}`, { tensor: key });
    }
    this.checkShape(s, spec.shape);
    if (!s.tensor.supported) {
      throw new ModelDirError('MODEL_DTYPE_UNSUPPORTED', s.file, `has dtype ${s.tensor.dtype}, which is not supported`, { tensor: key });
    }
    this.used.add(key);
    this.out.tensors.set(spec.name, s.tensor);
    this.out.originalKeys.set(spec.name, key);
  }

  checkShape(s: StoredTensor, shape: readonly number[]): void {
    const got = s.tensor.shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new ModelDirError('MODEL_TENSOR_SHAPE', s.file, `has shape ${fmt(got)}, but config.json implies ${fmt(shape)}`, { tensor: s.key });
    }
  }

  /** Keeps a tensor for export only (buffers, tied duplicates, unused pooler). */
  keep(key: string): void {
    const s = this.input.stored.get(key);
    if (!s) return;
    this.used.add(key);
    this.out.passthrough.set(key, s.tensor);
  }

  /** Marks a tensor as consumed without keeping it (a classifier that a new head replaces). */
  drop(key: string): void {
    this.used.add(key);
  }

  stored(key: string): StoredTensor | undefined {
    return this.input.stored.get(key);
  }

  /** Refuses the first tensor, in file order, that nothing above accounted for. */
  finish(model: string): void {
    for (const [key, s] of this.input.stored) {
      if (this.used.has(key)) continue;
      throw new ModelDirError('MODEL_TENSOR_UNEXPECTED', s.file, `is not a parameter or buffer of ${model} with this config.json`, { tensor: key });
    }
  }
}

function detectPrefix(stored: ReadonlyMap<string, StoredTensor>, prefix: string): string {
  for (const key of stored.keys()) if (key.startsWith(prefix)) return prefix;
  return '';
}

export function matchGpt2(config: Gpt2Config, input: MatchInput): Gpt2Match {
  const prefix = detectPrefix(input.stored, GPT2_PREFIX);
  const specs = gpt2Parameters(config);
  const expected = new Set(specs.map((s) => (s.part === 'backbone' ? prefix + s.name : s.name)));
  const isBuffer = (key: string) => {
    const m = key.startsWith(prefix) ? GPT2_BUFFER.exec(key.slice(prefix.length)) : null;
    return m !== null && Number(m[1]) < config.n_layer;
  };
  const m = new Matcher(input, prefix, (k) => expected.has(k) || isBuffer(k) || k === 'lm_head.weight');
  for (const spec of specs) m.take(spec);
  if (config.tie_word_embeddings) checkTiedHead(m, 'wte.weight', [config.vocab_size, config.n_embd]);
  for (const key of input.stored.keys()) if (isBuffer(key)) m.keep(key);
  m.finish('GPT-2');
  return { ...m.out, tied: config.tie_word_embeddings };
}

/** Llama, Mistral, Qwen2, Qwen3 (one layout with switches: layout.ts llamaParameters). */
export function matchLlama(config: LlamaConfig, input: MatchInput): LlamaMatch {
  const prefix = detectPrefix(input.stored, LLAMA_PREFIX);
  const specs = llamaParameters(config);
  const expected = new Set(specs.map((s) => (s.part === 'backbone' ? prefix + s.name : s.name)));
  const isBuffer = (key: string) => {
    const m = key.startsWith(prefix) ? LLAMA_BUFFER.exec(key.slice(prefix.length)) : null;
    return m !== null && (m[1] === undefined || Number(m[1]) < config.num_hidden_layers);
  };
  const m = new Matcher(input, prefix, (k) => expected.has(k) || isBuffer(k) || k === 'lm_head.weight');
  for (const spec of specs) m.take(spec);
  if (config.tie_word_embeddings) checkTiedHead(m, 'embed_tokens.weight', [config.vocab_size, config.hidden_size]);
  for (const key of input.stored.keys()) {
    if (!isBuffer(key)) continue;
    const s = m.stored(key) as StoredTensor;
    m.checkShape(s, [config.head_dim / 2]);
    m.keep(key);
  }
  m.finish(`${config.model_type} (${config.architectures[0] ?? 'LlamaForCausalLM-style'})`);
  return { ...m.out, tied: config.tie_word_embeddings };
}

/** A stored lm_head next to a tied config must be the very same matrix as the embedding (then it is only kept). */
function checkTiedHead(m: Matcher, embedding: string, shape: readonly number[]): void {
  const head = m.stored('lm_head.weight');
  if (!head) return;
  m.checkShape(head, shape);
  const wte = m.out.tensors.get(embedding) as SafetensorsTensor;
  const a = wte.data;
  const b = head.tensor.data;
  for (let i = 0; i < a.length; i++) {
    // Bitwise equality through Object.is would split +0/−0; the weights are tied, so compare values.
    if (a[i] !== b[i]) {
      const detail = `differs from ${embedding} at element ${i} (${b[i]} vs ${a[i]}), but config.json has tie_word_embeddings: true`;
      throw new ModelDirError('MODEL_TIED_HEAD', head.file, detail, { tensor: head.key });
    }
  }
  m.keep(head.key);
}

/**
 * `numClasses`: the class count the user wants (default: the checkpoint's). A classifier is loaded only
 * when the checkpoint has one of exactly that many classes; otherwise `head.newHead` tells the caller
 * to create one.
 */
export function matchVit(config: VitConfig, input: MatchInput, numClasses?: number): VitMatch {
  const prefix = detectPrefix(input.stored, VIT_PREFIX);
  const specs = vitParameters(config);
  const classifier = vitClassifier(config, config.num_labels);
  const pooler = vitPooler(config);
  const expected = new Set([...specs, ...pooler].map((s) => prefix + s.name));
  const m = new Matcher(input, prefix, (k) => expected.has(k) || k.startsWith('classifier.'));
  for (const spec of specs) m.take(spec);
  for (const spec of pooler) {
    const s = m.stored(m.original(spec));
    if (s) {
      m.checkShape(s, spec.shape);
      m.keep(s.key);
    }
  }
  const hasClassifier = classifier.some((spec) => m.has(spec));
  const wanted = numClasses ?? config.num_labels;
  let head: VitHeadInfo;
  if (!hasClassifier) {
    head = { newHead: true, reason: 'no-classifier', numClasses: wanted, checkpointClasses: null };
  } else {
    // The checkpoint's classifier must agree with its own config (num_labels) before anything else.
    for (const spec of classifier) m.take(spec);
    const replace = wanted !== config.num_labels;
    if (replace) {
      for (const spec of classifier) {
        m.out.tensors.delete(spec.name);
        m.out.originalKeys.delete(spec.name);
        m.drop(m.original(spec));
      }
    }
    head = { newHead: replace, reason: replace ? 'class-count' : null, numClasses: wanted, checkpointClasses: config.num_labels };
  }
  m.finish('ViT');
  return { ...m.out, head };
}
