// The demo playground's engine side (runs in a worker): loads the built-in GPT-2 from the app's own
// files (public/demo/gpt2-fortunes — nothing is fetched from elsewhere), then generates text from a
// prompt with the KV-cached decoder. No DOM, no React.
import type { GpuContext } from '../gpu/context';
import { getDevice } from '../gpu/device';
import { type LoadedGpt2, loadModelDir, sourceFromMap } from '../io/hfModel';
import { type ByteLevelBpeTokenizer, fromTokenizerJson } from '../io/tokenizer';
import { generate } from '../model/gpt2/generate';
import { Gpt2LoraModel } from '../model/gpt2/model';

export const DEMO_GPT2_DIR = 'demo/gpt2-fortunes';
const DEMO_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

export interface GenerateReply {
  text: string;
  promptTokens: number;
  newTokens: number;
  stopReason: string;
  ms: number;
}

interface Loaded {
  ctx: GpuContext;
  model: Gpt2LoraModel;
  tokenizer: ByteLevelBpeTokenizer;
}

let loading: Promise<Loaded> | undefined;

/** `base` is the app's URL prefix (import.meta.env.BASE_URL in the page), so files stay same-origin. */
async function load(base: string): Promise<Loaded> {
  const files = new Map<string, ArrayBuffer>();
  for (const name of DEMO_FILES) {
    const res = await fetch(`${base}${DEMO_GPT2_DIR}/${name}`);
    if (!res.ok) throw new Error(`demo model file ${DEMO_GPT2_DIR}/${name}: HTTP ${res.status}`);
    files.set(name, await res.arrayBuffer());
  }
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== 'gpt2') throw new Error(`demo model is a ${loaded.kind}, expected gpt2`);
  const tokenizer = fromTokenizerJson(new TextDecoder().decode(files.get('tokenizer.json')!), 'tokenizer.json');
  const ctx = await getDevice({ label: 'playground' });
  // The base model: LoRA slots exist but B = 0 (PEFT init), so the adapter is a no-op here.
  const model = await Gpt2LoraModel.create(ctx, loaded as LoadedGpt2, {
    targetModules: ['c_attn'], r: 1, scale: 1, B: 1, T: loaded.config.n_positions,
  });
  return { ctx, model, tokenizer };
}

export async function generateDemo(base: string, req: GenerateRequest): Promise<GenerateReply> {
  loading ??= load(base);
  loading.catch(() => { loading = undefined; });
  const { model, tokenizer } = await loading;
  const t0 = performance.now();
  const promptIds = tokenizer.encode(req.prompt);
  if (promptIds.length === 0) throw new Error('the prompt is empty: type a few words first');
  const out = await generate(model, Uint32Array.from(promptIds), {
    maxNewTokens: req.maxNewTokens, temperature: req.temperature, topK: req.topK, seed: req.seed,
    eosTokenId: tokenizer.eosTokenId ?? undefined,
  });
  return {
    text: tokenizer.decode(out.ids, { skipSpecialTokens: true }),
    promptTokens: promptIds.length, newTokens: out.ids.length, stopReason: out.stopReason,
    ms: performance.now() - t0,
  };
}
