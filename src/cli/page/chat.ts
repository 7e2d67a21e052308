// The CLI's chat jobs, run in the engine page: `eval --data chat.jsonl` (the assistant-only loss: mean
// cross-entropy over the reply tokens and each reply's end-of-turn token, as TRL's assistant_only_loss
// trains it) and `generate --chat` (the conversation rendered with add_generation_prompt, sampled until any
// stop id: config / generation_config eos_token_id, the tokenizer's EOS, the template's end-of-turn token).
import { type ChatMessage, type ChatSetup, buildChatSequences, loadChatSetup, noTemplateForChat, noTemplateMessage, tokenOffsets } from '../../io/chat';
import { IGNORE_INDEX, parseTextDataset } from '../../io/datasets';
import { type LoadedModel, type ModelDirSource, loadModelDir } from '../../io/hfModel';
import { loadFolderTokenizer, type TextTokenizer } from '../../io/tokenizer';
import { llamaContext } from '../../model/families/llama';
import { generate } from '../../model/gpt2/generate';
import { generateLlama } from '../../model/llama/generate';
import { lmTaskData } from '../../train/data';
import { evaluate } from '../../train/evaluate';
import type { CliEvent, DirRef, EvalChatJob, FileRef, GenerateJob } from '../jobs';
import { dirSource, readFile } from './bridge';
import { prepare } from './inference';

type Emit = (e: CliEvent) => void;

interface ChatModel {
  source: ModelDirSource;
  loaded: LoadedModel;
  tok: TextTokenizer;
  chat: ChatSetup;
}

async function chatModel(model: DirRef, templateFile: FileRef | undefined, what: string): Promise<ChatModel> {
  const source = dirSource(model);
  const loaded = await loadModelDir(source);
  if (loaded.kind === 'vit') throw new Error(`${what} needs a language model; ${model.root} is a ViT`);
  const tok = await loadFolderTokenizer(source);
  if (!tok) throw new Error(`${model.root} has no tokenizer.json (or vocab.json + merges.txt)`);
  const template = templateFile ? new TextDecoder().decode(await readFile(templateFile.path)) : undefined;
  const chat = await loadChatSetup(source, tok, template !== undefined ? { template, templateSource: templateFile!.path.split('/').pop() } : {});
  return { source, loaded, tok, chat };
}

/** Positions a causal LM can see: GPT-2's n_positions, a Llama family's context (max_position_embeddings, sliding window). */
function contextOf(loaded: LoadedModel): number {
  if (loaded.kind === 'gpt2') return loaded.config.n_positions;
  if (loaded.kind === 'llama') return llamaContext(loaded.config);
  throw new Error('chat needs a language model, not a ViT');
}

/** Conversations per engine batch by default, fewer when their logits (B, T, V) would pass this many bytes. */
const DEFAULT_CHAT_BATCH = 4;
const DEFAULT_LOGITS_BYTES = 256 * 2 ** 20;

/** --batch as given, else the default bounded by the logits' size; never more than the conversations. */
function chatBatch(asked: number | undefined, conversations: number, T: number, V: number): number {
  const B = asked ?? Math.max(1, Math.min(DEFAULT_CHAT_BATCH, Math.floor(DEFAULT_LOGITS_BYTES / (T * V * 4))));
  return Math.max(1, Math.min(B, conversations));
}

export async function runEvalChat(job: EvalChatJob, emit: Emit) {
  const m = await chatModel(job.model, job.chatTemplate, 'eval --data');
  const name = job.data.path.split('/').pop() as string;
  const ds = parseTextDataset(await readFile(job.data.path), name, { format: 'jsonl' });
  if (ds.chats === undefined) throw new Error(`${name} is not a chat .jsonl (its rows have no "messages" or "conversations"); evaluate plain text with --text`);
  if (!m.chat.template) throw new Error(noTemplateMessage(name));
  const maxT = job.seqLen ?? contextOf(m.loaded);
  const seqs = buildChatSequences(ds.chats, name, m.chat.template, tokenOffsets(m.tok), m.tok.eosTokenId, maxT);
  const rejected = [...ds.rejected, ...seqs.rejected].sort((a, b) => a.line - b.line).map((r) => `line ${r.line}: ${r.reason}`);
  if (seqs.ids.length === 0) throw new Error(`${name}: no conversation could be scored (${rejected.length} rejected${rejected[0] ? `; ${rejected[0]}` : ''})`);
  // One engine length for all: up to the last scored position of the longest conversation (padding after it
  // cannot reach earlier positions through causal attention).
  let T = 1;
  for (const labels of seqs.labels) for (let j = labels.length - 1; j >= 0; j--) if (labels[j] !== IGNORE_INDEX) { T = Math.max(T, j + 1); break; }
  const examples = seqs.ids.map((ids, i) => ({ ids: ids.subarray(0, T), labels: seqs.labels[i].subarray(0, T) }));
  if (m.loaded.kind === 'vit') throw new Error('eval --data needs a language model, not a ViT');
  const B = chatBatch(job.batch, examples.length, T, m.loaded.config.vocab_size);
  const ready = await prepare(m.loaded, job.model, job.adapter, B, T);
  if (ready.kind === 'vit') throw new Error(`eval --data needs a language model; ${job.model.root} is a ViT`);
  // The engine's masked mean on the GPU (evalLoss: an 8-byte readback per batch, never the (B, T, V) logits),
  // token-weighted across batches by evaluate: the mean over every scored reply token.
  let r;
  try {
    r = await evaluate(ready.engine, lmTaskData([], examples, T), B, examples, (done, total) => emit({ type: 'progress', done, total }));
  } finally {
    ready.engine.destroy();
  }
  return {
    loss: r.loss, scoredTokens: r.count, conversations: seqs.ids.length, tokens: seqs.tokenCount,
    truncatedLines: seqs.truncatedLines, rejected, template: m.chat.template.spec.source,
  };
}

export async function runGenerateChat(job: GenerateJob & { chat: ChatMessage[] }) {
  const m = await chatModel(job.model, job.chatTemplate, 'generate --chat');
  if (!m.chat.template) throw new Error(noTemplateForChat());
  const text = m.chat.template.render(job.chat, true);
  const promptIds = m.tok.encode(text); // the template writes BOS itself where the model wants one
  // A Llama decoder plans its own (1, T) passes (KV cache); its engine plan needs one position only.
  const ready = await prepare(m.loaded, job.model, job.adapter, 1, m.loaded.kind === 'llama' ? 1 : contextOf(m.loaded));
  if (ready.kind === 'vit') throw new Error(`generate needs a language model; ${job.model.root} is a ViT`);
  try {
    const stop = new Set(m.chat.stopIds);
    const sampling = { maxNewTokens: job.maxNewTokens, temperature: job.temperature, topK: job.topK, seed: job.seed };
    const prompt = Uint32Array.from(promptIds);
    const out = ready.kind === 'llama'
      ? await generateLlama(ready.engine, prompt, { ...sampling, eosTokenIds: [...stop] })
      : await generate(ready.engine, prompt, { ...sampling, eosTokenId: [...stop] });
    const ids = out.stopReason === 'eos' ? out.ids.slice(0, -1) : out.ids;
    return {
      reply: m.tok.decode(ids, { skipSpecialTokens: true }), promptTokens: promptIds.length, newTokens: out.ids.length,
      stopReason: out.stopReason, stopIds: [...stop], template: m.chat.template.spec.source,
    };
  } finally {
    ready.engine.destroy();
  }
}
