// `lorasc <command>`: eval, generate, classify, train, export. Node parses the command line, lists the
// user's folders, and runs the job on the app's engine in headless Chromium (host.ts). Bad input ends
// with one line on stderr and a non-zero exit, never a stack trace (LORASC_DEBUG=1 shows one).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { type OptionSpec, type Parsed, UsageError, parseArgs, usage } from './args';
import { CliJobError, runJob } from './host';
import { checkOutFile, checkPathText, moveInto, prepareOutDir, privateOutDir } from './outputs';
import type { CliJob, DirRef, FileRef } from './jobs';
import { progressPrinter } from './progress';
import { METHOD_NAMES, methodHelp } from '../adapters/registry';
import { type ChatMessage, chatFromRow } from '../io/chat/messages';
import { parseExportDtype } from '../io/export/precision';

const MODEL: OptionSpec = { kind: 'string', help: 'HF model folder (config.json, *.safetensors, tokenizer / preprocessor files)' };
const ADAPTER: OptionSpec = { kind: 'string', help: 'PEFT adapter folder (adapter_config.json, adapter_model.safetensors)' };
const JSON_FLAG: OptionSpec = { kind: 'flag', help: 'print the result as JSON on stdout' };
const CHAT_TEMPLATE: OptionSpec = { kind: 'string', help: 'Jinja chat template file, instead of the model\'s own (a GPT-2 has none)' };

const COMMANDS: Record<string, { summary: string; spec: Record<string, OptionSpec> }> = {
  eval: {
    summary: 'mean next-token loss of a language model (GPT-2, Llama, Mistral, Qwen2, Qwen3) on a text/token file, the assistant-only loss on a chat .jsonl, or loss and accuracy of a ViT on an image folder',
    spec: {
      model: MODEL, adapter: ADAPTER,
      text: { kind: 'string', help: 'UTF-8 text file (language models)' },
      tokens: { kind: 'string', help: 'JSON array of token ids (language models)' },
      data: { kind: 'string', help: 'chat .jsonl ("messages" or "conversations" rows): loss on the assistant tokens only' },
      'chat-template': CHAT_TEMPLATE,
      'seq-len': { kind: 'int', help: 'with --data: tokens per conversation (default: the model\'s context)' },
      images: { kind: 'string', help: 'folder with one subfolder per class (ViT)' },
      'logits-out': { kind: 'string', help: 'write the logits [N, V] F32 to this .safetensors file' },
      batch: { kind: 'int', help: 'images per batch (default 16); with --data: conversations per batch (default up to 4)' },
      json: JSON_FLAG,
    },
  },
  generate: {
    summary: 'continue a prompt with a language model (GPT-2, Llama, Mistral, Qwen2, Qwen3), or reply to --chat through the chat template (KV cache; greedy at temperature 0; stops at any EOS id)',
    spec: {
      model: MODEL, adapter: ADAPTER,
      prompt: { kind: 'string', help: 'the text to continue' },
      chat: { kind: 'string', help: 'a user message: the reply of a chat model, through its chat template' },
      'chat-file': { kind: 'string', help: 'a JSON conversation ({"messages": [...]} or the list) to reply to, through the chat template' },
      'chat-template': CHAT_TEMPLATE,
      'max-new-tokens': { kind: 'int', help: 'default 50' },
      temperature: { kind: 'number', help: '0 = greedy (default 0.8)' },
      'top-k': { kind: 'int', help: 'sample from the k most likely tokens; 0 = all (default 40)' },
      seed: { kind: 'int', help: 'sampler seed (default 0)' },
      json: JSON_FLAG,
    },
  },
  classify: {
    summary: 'top-k labels of images with a ViT',
    spec: {
      model: MODEL, adapter: ADAPTER,
      image: { kind: 'string', help: 'an image file, or a folder of images' },
      'top-k': { kind: 'int', help: 'labels per image (default 5)' },
      json: JSON_FLAG,
    },
  },
  train: {
    summary: `fine-tune with ${METHOD_NAMES.join(' | ')} and write the merged model (and PEFT adapter)`,
    spec: {
      model: MODEL,
      data: { kind: 'string', help: '.txt / .jsonl / .csv (GPT-2; any other name: UTF-8 text) or a folder with one subfolder per class (ViT)' },
      format: { kind: 'string', help: 'text | jsonl | csv | images: how to read --data (default: from its extension; folders are images)' },
      'chat-template': CHAT_TEMPLATE,
      method: { kind: 'string', help: methodHelp() },
      'frozen-weights': { kind: 'string', help: 'stored | f32: a BF16/F16 checkpoint\'s frozen weights stay 2 bytes per parameter on the GPU (stored, default) or are widened to F32; LoRASC/COLA always use F32' },
      out: { kind: 'string', help: 'output folder: merged/, adapter/, checkpoints/, trainer_state.json, summary.json' },
      epochs: { kind: 'int', help: 'passes over the training split (default 3)' },
      'max-steps': { kind: 'int', help: 'stop after this many steps (overrides epochs)' },
      rank: { kind: 'int', help: 'LoRA rank r (default 8)' },
      'lora-alpha': { kind: 'number', help: 'lora_alpha (default 16)' },
      lr: { kind: 'number', help: 'learning rate (default 2e-4 GPT-2, 5e-4 ViT)' },
      seed: { kind: 'int', help: 'seed of init, noise, split and data order (default 42)' },
      targets: { kind: 'string', help: 'comma-separated PEFT target_modules, or re:<regex> (default c_attn / query,value)' },
      alpha: { kind: 'number', help: 'LoRASC slow-fast pace α (default 0.5)' },
      noise: { kind: 'number', help: 'LoRASC noise level λ (default 0.05; 0 = off)' },
      'noise-form': { kind: 'string', help: 'uniform | gaussian' },
      'noise-scope': { kind: 'string', help: 'targets | all' },
      slow: { kind: 'string', help: 'lookahead | ema' },
      'persistent-noise': { kind: 'flag', help: 'keep the noise in the backbone (LoRASC ablation)' },
      'iteration-steps': { kind: 'int', help: 'steps per cascade iteration / COLA link (default: one epoch)' },
      'loraplus-ratio': { kind: 'number', help: 'LoRA+ ratio for lora_B (with loraplus, cola or lorasc)' },
      'lora-dropout': { kind: 'number', help: 'dropout on the LoRA input (default 0.05; DoRA: 0)' },
      dora: { kind: 'flag', help: 'DoRA experts (with lora, cola or lorasc)' },
      rslora: { kind: 'flag', help: 'rsLoRA scaling lora_alpha/√r' },
      batch: { kind: 'int', help: 'batch size (default 8)' },
      'grad-accum': { kind: 'int', help: 'micro-batches per optimizer step (default 1)' },
      'seq-len': { kind: 'int', help: 'language-model tokens per sequence (default 64)' },
      schedule: { kind: 'string', help: 'constant | linear | cosine (default cosine)' },
      'warmup-ratio': { kind: 'number', help: 'warm-up fraction of the steps (default 0.05)' },
      'weight-decay': { kind: 'number', help: 'AdamW weight decay (default 0)' },
      'max-grad-norm': { kind: 'number', help: 'gradient clipping (default 1; 0 = off)' },
      'val-fraction': { kind: 'number', help: 'held-out fraction (default 0.1)' },
      'eval-every': { kind: 'int', help: 'evaluate every N steps (default: every epoch)' },
      'keep-best': { kind: 'flag', help: 'export the weights of the best validation evaluation, not the last (HF load_best_model_at_end; cascades: at iteration ends)' },
      'early-stop-patience': { kind: 'int', help: 'stop after N evaluations without improvement (HF EarlyStoppingCallback; default 0 = off)' },
      'early-stop-threshold': { kind: 'number', help: 'an improvement must exceed this to reset the patience (default 0)' },
      'no-adapter': { kind: 'flag', help: 'write only the merged model' },
      'checkpoint-every': { kind: 'int', help: 'checkpoint every N steps under --out/checkpoints/ (default: each epoch; cascades also after each merge)' },
      resume: { kind: 'flag', help: 'continue from the newest complete checkpoint in --out/checkpoints/ (same options as the interrupted run)' },
      recompute: { kind: 'flag', help: 'recompute each block\'s activations in the backward: less GPU memory, the same gradients, about one more forward per step' },
      plan: { kind: 'flag', help: 'print the run\'s GPU memory plan (weights, adapter, gradients, optimizer, activations, workspace) and exit; needs only --model' },
      'max-shard-bytes': { kind: 'int', help: 'shard merged/ above this many bytes, with model.safetensors.index.json (default 5000000000, as transformers)' },
      'export-dtype': { kind: 'string', help: 'merged weights in F32 (default), BF16 or F16: the F32 merge rounded once; the parity shows how much of the update survived' },
      json: JSON_FLAG,
    },
  },
  export: {
    summary: 'merge a PEFT adapter into its base model and write the merged HF folder',
    spec: {
      model: MODEL, adapter: ADAPTER, out: { kind: 'string', help: 'output folder' },
      'max-shard-bytes': { kind: 'int', help: 'shard above this many bytes, with model.safetensors.index.json (default 5000000000, as transformers)' },
      'export-dtype': { kind: 'string', help: 'merged weights in F32 (default), BF16 or F16: the F32 merge rounded once; the parity shows how much of the update survived' },
      json: JSON_FLAG,
    },
  },
};

function need(p: Parsed, name: string, command: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`lorasc ${command} needs --${name}`);
  return v;
}

/** A folder's files, relative and '/'-separated (recursive for image folders; hidden entries skipped). */
function listDir(path: string, recursive: boolean, what: string): DirRef {
  const root = resolve(path);
  if (!existsSync(root)) throw new UsageError(`${what} ${path} does not exist`);
  if (!statSync(root).isDirectory()) throw new UsageError(`${what} ${path} is not a folder`);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) { if (recursive) walk(full); } else if (e.isFile()) files.push(relative(root, full).split('\\').join('/'));
    }
  };
  walk(root);
  return { root, files: files.sort() };
}

function fileRef(path: string, what: string): FileRef {
  const p = resolve(path);
  if (!existsSync(p) || !statSync(p).isFile()) throw new UsageError(`${what} ${path} is not a file`);
  return { path: p };
}

/** --format checked against what --data is: a folder is images, a file is text (txt/jsonl/csv). */
function dataFormat(format: string | undefined, isFolder: boolean, data: string): 'txt' | 'jsonl' | 'csv' | undefined {
  if (format === undefined) return undefined;
  const text = { text: 'txt', jsonl: 'jsonl', csv: 'csv' } as const;
  if (format !== 'images' && !(format in text)) throw new UsageError(`--format must be text, jsonl, csv or images, got "${format}"`);
  if (format === 'images' && !isFolder) throw new UsageError(`--format images needs a folder; --data ${data} is a file`);
  if (format !== 'images' && isFolder) throw new UsageError(`--format ${format} needs a file; --data ${data} is a folder`);
  return format === 'images' ? undefined : text[format as keyof typeof text];
}

/** --export-dtype: F32 (the default, left out of the job), BF16 or F16 (docs/formats.md#export-precision). */
function exportDtype(p: Parsed): 'BF16' | 'F16' | undefined {
  const v = p['export-dtype'];
  if (v === undefined) return undefined;
  const d = parseExportDtype(String(v));
  if (!d) throw new UsageError(`--export-dtype must be F32, BF16 or F16, got ${JSON.stringify(String(v))}`);
  return d === 'F32' ? undefined : d;
}

/** --frozen-weights stored | f32 (docs/engineering.md#frozen-weights). */
function frozenWeightsOf(p: Parsed): 'stored' | 'f32' | undefined {
  const v = p['frozen-weights'];
  if (v === undefined) return undefined;
  if (v !== 'stored' && v !== 'f32') throw new UsageError(`--frozen-weights must be stored or f32, got ${String(v)}`);
  return v;
}

function shardBytes(p: Parsed): number | undefined {
  const v = p['max-shard-bytes'];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || v < 1) throw new UsageError(`--max-shard-bytes must be a positive number of bytes, got ${String(v)}`);
  return v;
}

/** --chat MESSAGE (one user turn) or --chat-file: {"messages": [...]}, ShareGPT {"conversations": [...]}, or the bare list. */
function chatMessages(p: Parsed): ChatMessage[] {
  if (p.chat !== undefined) {
    const text = p.chat as string;
    if (text.trim() === '') throw new UsageError('--chat is empty');
    return [{ role: 'user', content: text }];
  }
  const f = fileRef(p['chat-file'] as string, 'chat file');
  let parsed: unknown;
  try { parsed = JSON.parse(readFileSync(f.path, 'utf8')); } catch (e) { throw new UsageError(`${p['chat-file']}: not JSON (${(e as Error).message})`); }
  const row = Array.isArray(parsed) ? { messages: parsed } : parsed;
  if (typeof row !== 'object' || row === null) throw new UsageError(`${p['chat-file']}: expected {"messages": [...]} or a list of messages`);
  const msgs = chatFromRow(row, { needsReply: false });
  if (typeof msgs === 'string') throw new UsageError(`${p['chat-file']}: ${msgs}`);
  if (msgs[msgs.length - 1].role === 'assistant') throw new UsageError(`${p['chat-file']}: the conversation ends with an assistant turn; end it with the user message to reply to`);
  return msgs;
}

function targetsOf(s: string): string[] | string {
  if (s.startsWith('re:')) return s.slice(3);
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (list.length === 0) throw new UsageError('--targets names no module');
  return list;
}

function trainConfig(p: Parsed): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  const map: [string, string][] = [
    ['method', 'method'], ['epochs', 'epochs'], ['max-steps', 'maxSteps'], ['rank', 'r'], ['lora-alpha', 'loraAlpha'], ['lr', 'lr'],
    ['seed', 'seed'], ['alpha', 'alpha'], ['noise', 'lambda'], ['noise-form', 'noise'], ['noise-scope', 'noiseScope'], ['slow', 'slow'],
    ['iteration-steps', 'iterationSteps'], ['loraplus-ratio', 'loraplusRatio'], ['batch', 'batchSize'], ['grad-accum', 'gradAccum'], ['seq-len', 'seqLen'],
    ['schedule', 'schedule'], ['warmup-ratio', 'warmupRatio'], ['weight-decay', 'weightDecay'], ['max-grad-norm', 'maxGradNorm'],
    ['val-fraction', 'valFraction'], ['eval-every', 'evalEvery'], ['lora-dropout', 'loraDropout'], ['checkpoint-every', 'checkpointEvery'],
    ['early-stop-patience', 'earlyStopPatience'], ['early-stop-threshold', 'earlyStopThreshold'],
  ];
  for (const [flag, key] of map) if (p[flag] !== undefined) c[key] = p[flag];
  if (p.targets !== undefined) c.targetModules = targetsOf(p.targets as string);
  if (p.dora) c.useDora = true;
  if (p.rslora) c.useRslora = true;
  if (p['persistent-noise']) c.persistentNoise = true;
  if (p['keep-best']) c.keepBest = true;
  if (p.recompute) c.recompute = true;
  return c;
}

/** A job, the files it reads, and where it writes: the user's --out folder, or one file (--logits-out) that
 *  the page writes into a private temporary folder and Node moves onto the user's path at the end. */
interface Built { job: CliJob; inputs: string[]; outDir?: string; outFile?: { name: string; to: string } }

/** The job a command line runs, as main() builds it (tests run it with runJob's test hooks). */
export function jobFor(argv: string[]): Built {
  const [command, ...rest] = argv;
  const cmd = COMMANDS[command];
  if (!cmd) throw new UsageError(`unknown command "${command}"`);
  return buildJob(command, parseArgs(rest, cmd.spec));
}

function buildJob(command: string, p: Parsed): Built {
  const model = () => listDir(need(p, 'model', command), false, 'model folder');
  const adapter = p.adapter !== undefined ? listDir(p.adapter as string, false, 'adapter folder') : undefined;
  const withAdapter = (m: DirRef) => [m.root, ...(adapter ? [adapter.root] : [])];
  switch (command) {
    case 'eval': {
      const m = model();
      const sources = ['text', 'tokens', 'images', 'data'].filter((k) => p[k] !== undefined);
      if (sources.length !== 1) throw new UsageError('lorasc eval needs exactly one of --text FILE, --tokens FILE.json, --data CHAT.jsonl, --images DIR');
      if (p.data === undefined && (p['chat-template'] !== undefined || p['seq-len'] !== undefined)) throw new UsageError('--chat-template and --seq-len go with --data CHAT.jsonl');
      if (p.batch !== undefined && (p.batch as number) < 1) throw new UsageError(`--batch must be at least 1, got ${String(p.batch)}`);
      if (p.data !== undefined) {
        if (p['logits-out'] !== undefined) throw new UsageError('--logits-out goes with --text or --tokens');
        const data = fileRef(p.data as string, 'chat data file');
        const chatTemplate = p['chat-template'] !== undefined ? fileRef(p['chat-template'] as string, 'chat template') : undefined;
        return {
          job: { kind: 'eval-chat', model: m, adapter, data, ...(chatTemplate ? { chatTemplate } : {}), ...(p['seq-len'] !== undefined ? { seqLen: p['seq-len'] as number } : {}), ...(p.batch !== undefined ? { batch: p.batch as number } : {}) },
          inputs: [...withAdapter(m), data.path, ...(chatTemplate ? [chatTemplate.path] : [])],
        };
      }
      if (p.images !== undefined) {
        if (p['logits-out'] !== undefined) throw new UsageError('--logits-out goes with --text or --tokens');
        const images = listDir(p.images as string, true, 'image folder');
        return { job: { kind: 'eval-images', model: m, adapter, images, batch: (p.batch as number) ?? 16 }, inputs: [...withAdapter(m), images.root] };
      }
      let tokens: number[] | undefined, text: FileRef | undefined;
      if (p.tokens !== undefined) {
        const f = fileRef(p.tokens as string, 'token file');
        let parsed: unknown;
        try { parsed = JSON.parse(readFileSync(f.path, 'utf8')); } catch (e) { throw new UsageError(`${p.tokens}: not JSON (${(e as Error).message})`); }
        const flat = Array.isArray(parsed) && parsed.length === 1 && Array.isArray(parsed[0]) ? parsed[0] : parsed;
        if (!Array.isArray(flat) || !flat.every((t) => Number.isInteger(t))) throw new UsageError(`${p.tokens}: expected a JSON array of integer token ids`);
        tokens = flat as number[];
      } else text = fileRef(p.text as string, 'text file');
      // Checked before Chromium starts: a folder that does not exist used to hang the run at its very end.
      const logitsTo = p['logits-out'] !== undefined ? checkOutFile(p['logits-out'] as string, '--logits-out') : undefined;
      const outFile = logitsTo ? { name: 'logits.safetensors', to: logitsTo } : undefined;
      return {
        job: { kind: 'eval-lm', model: m, adapter, text, tokens, logitsOut: outFile?.name },
        inputs: [...withAdapter(m), ...(text ? [text.path] : [])], outFile,
      };
    }
    case 'generate': {
      const m = model();
      const given = ['prompt', 'chat', 'chat-file'].filter((k) => p[k] !== undefined);
      if (given.length !== 1) throw new UsageError('lorasc generate needs exactly one of --prompt TEXT, --chat MESSAGE, --chat-file FILE.json');
      if (p.prompt !== undefined && p['chat-template'] !== undefined) throw new UsageError('--chat-template goes with --chat or --chat-file');
      const chat = p.prompt === undefined ? chatMessages(p) : undefined;
      const chatTemplate = p['chat-template'] !== undefined ? fileRef(p['chat-template'] as string, 'chat template') : undefined;
      return {
        job: {
          kind: 'generate', model: m, adapter, prompt: (p.prompt as string | undefined) ?? '', ...(chat ? { chat } : {}), ...(chatTemplate ? { chatTemplate } : {}),
          maxNewTokens: (p['max-new-tokens'] as number) ?? 50, temperature: (p.temperature as number) ?? 0.8,
          topK: (p['top-k'] as number) ?? 40, seed: (p.seed as number) ?? 0,
        },
        inputs: [...withAdapter(m), ...(chatTemplate ? [chatTemplate.path] : [])],
      };
    }
    case 'classify': {
      const m = model();
      const target = resolve(need(p, 'image', command));
      if (!existsSync(target)) throw new UsageError(`${p.image} does not exist`);
      const images: FileRef[] = statSync(target).isDirectory()
        ? listDir(target, true, 'image folder').files.map((f) => ({ path: join(target, f) }))
        : [{ path: target }];
      if (images.length === 0) throw new UsageError(`${p.image} holds no file`);
      return { job: { kind: 'classify', model: m, adapter, images, topK: (p['top-k'] as number) ?? 5 }, inputs: [...withAdapter(m), target] };
    }
    case 'train': {
      const m = model();
      // --plan reads only the model: the plan depends on the options, not on the data.
      if (p.plan) return { job: { kind: 'train', model: m, data: { path: '' }, config: trainConfig(p), adapterOut: false, resume: false, planOnly: true, frozenWeights: frozenWeightsOf(p) }, inputs: [m.root] };
      const dataPath = resolve(need(p, 'data', command));
      if (!existsSync(dataPath)) throw new UsageError(`--data ${p.data} does not exist`);
      const isFolder = statSync(dataPath).isDirectory();
      const data = isFolder ? listDir(dataPath, true, 'data folder') : { path: dataPath };
      const textFormat = dataFormat(p.format as string | undefined, isFolder, p.data as string);
      const outArg = need(p, 'out', command);
      checkPathText(outArg, '--out');
      const checkpoints = join(resolve(outArg), 'checkpoints');
      if (p.resume && !existsSync(checkpoints)) throw new UsageError(`--resume: ${checkpoints} does not exist`);
      const chatTemplate = p['chat-template'] !== undefined ? fileRef(p['chat-template'] as string, 'chat template') : undefined;
      const out = prepareOutDir(outArg);
      return {
        job: { kind: 'train', model: m, data, textFormat, ...(chatTemplate ? { chatTemplate } : {}), config: trainConfig(p), adapterOut: !p['no-adapter'], resume: !!p.resume, maxShardBytes: shardBytes(p), exportDtype: exportDtype(p), frozenWeights: frozenWeightsOf(p) },
        inputs: [m.root, dataPath, ...(chatTemplate ? [chatTemplate.path] : [])], outDir: out,
      };
    }
    case 'export': {
      const m = model();
      if (!adapter) throw new UsageError('lorasc export needs --adapter');
      return { job: { kind: 'export', model: m, adapter, maxShardBytes: shardBytes(p), exportDtype: exportDtype(p) }, inputs: withAdapter(m), outDir: prepareOutDir(need(p, 'out', command)) };
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

function printResult(command: string, r: Record<string, unknown>, json: boolean): void {
  if (json) { console.log(JSON.stringify(r, null, 2)); return; }
  const num = (v: unknown, d = 4) => (typeof v === 'number' ? v.toFixed(d) : String(v));
  switch (command) {
    case 'eval':
      if ('accuracy' in r) console.log(`loss ${num(r.loss)}  accuracy ${num(r.accuracy)}  images ${r.images}`);
      else if ('scoredTokens' in r) {
        console.log(`loss ${num(r.loss)}  scored tokens ${r.scoredTokens} (assistant only)  conversations ${r.conversations}  tokens ${r.tokens}`);
        for (const line of r.rejected as string[]) console.error(`rejected: ${line}`);
        const cut = r.truncatedLines as number[];
        if (cut.length) console.error(`truncated to the sequence length: lines ${cut.slice(0, 20).join(', ')}${cut.length > 20 ? `, … (${cut.length})` : ''}`);
      } else console.log(`loss ${num(r.loss)}  tokens ${r.tokens}  predicted ${r.predicted}${r.logitsFile ? `  logits → ${r.logitsFile}` : ''}`);
      break;
    case 'generate': console.log('reply' in r ? r.reply : r.text); break;
    case 'classify':
      for (const x of r.results as { image: string; top: { label: string; prob: number }[] }[]) {
        console.log(`${x.image}: ${x.top.map((t) => `${t.label} ${(100 * t.prob).toFixed(1)}%`).join(', ')}`);
      }
      break;
    case 'train':
      if (Array.isArray(r.planLines)) { for (const l of r.planLines) console.log(l); if (r.why) console.log(r.why); break; }
      console.log(JSON.stringify(r, null, 2));
      break;
    default: console.log(JSON.stringify(r, null, 2));
  }
}

function helpText(): string {
  return ['usage: lorasc <command> [options]   (lorasc <command> --help for its options)', '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(9)} ${c.summary}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') { console.log(helpText()); return command ? 0 : 2; }
  const cmd = COMMANDS[command];
  try {
    if (!cmd) throw new UsageError(`unknown command "${command}"; one of ${Object.keys(COMMANDS).join(', ')}`);
    if (rest.includes('--help') || rest.includes('-h')) { console.log(usage(command, cmd.spec)); return 0; }
    const p = parseArgs(rest, cmd.spec);
    const { job, inputs, outDir, outFile } = buildJob(command, p);
    const onEvent = progressPrinter(process.stderr, !!p.json && command !== 'train');
    if (!outFile) {
      printResult(command, await runJob(job, { inputs, outDir, onEvent }), !!p.json);
      return 0;
    }
    const tmp = privateOutDir();
    try {
      const result = await runJob(job, { inputs, outDir: tmp.dir, onEvent });
      moveInto(join(tmp.dir, outFile.name), outFile.to);
      printResult(command, { ...result, logitsFile: outFile.to }, !!p.json);
      return 0;
    } finally {
      tmp.dispose();
    }
  } catch (e) {
    if (process.env.LORASC_DEBUG) console.error(e);
    if (e instanceof UsageError) { console.error(`lorasc ${command}: ${e.message}`); return 2; }
    // Typed errors (ST_*, MODEL_*, ADAPTER_*) already begin with their code; others get it prepended once.
    const code = e instanceof CliJobError ? e.serialized.code : undefined;
    const text = e instanceof Error ? e.message : String(e);
    const msg = code && !text.startsWith(code) ? `${code}: ${text}` : text;
    console.error(`lorasc ${command}: error: ${msg.split('\n')[0]}`);
    return 1;
  }
}

