// The built-in Llama demo (public/demo/llama-fortunes, public/demo/definitions-chat.jsonl; made by
// test/fixtures/demo/make_llama_demo.sh): a real LlamaForCausalLM folder as save_pretrained writes it (GQA,
// tied head, `model.` names, nn.Linear [out, in]), whose tokenizer files load through the app's loader with
// ChatML as special tokens, and whose chat set goes through the app's chat path (template from
// tokenizer_config.json, assistant spans, token masks) training exactly each reply and its <|im_end|>.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate, byteLevelOffsets, chatFromRow, chatTemplateFromConfig, renderWithSpans, tokenMask, type ChatMessage } from '../../../src/io/chat';
import { loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { defaultTargets, loraModules } from '../../../src/io/peft';
import { readSafetensors } from '../../../src/io/safetensors';
import { llamaSpecOf } from '../../../src/model/families/llama';
import { referenceLlamaLogits, referenceLlamaLoss } from '../../../src/model/llama/reference';
import { loadTokenizer, type ByteLevelBpeTokenizer } from '../../../src/io/tokenizer';

const DEMO = resolve(__dirname, '../../../public/demo');
const dir = resolve(DEMO, 'llama-fortunes');
const text = (name: string) => readFileSync(resolve(dir, name), 'utf8');
const config = JSON.parse(text('config.json')) as Record<string, unknown>;
const tokFiles = { tokenizerJson: text('tokenizer.json'), tokenizerConfig: text('tokenizer_config.json') };
const rows = readFileSync(resolve(DEMO, 'definitions-chat.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as object);

function messagesOf(row: object, line: number): ChatMessage[] {
  const m = chatFromRow(row);
  if (typeof m === 'string') throw new Error(`definitions-chat.jsonl line ${line}: ${m}`);
  return m;
}

describe('the Llama demo folder', () => {
  it('config.json is a small GQA Llama with a tied head, as transformers writes it', () => {
    expect(config.architectures).toEqual(['LlamaForCausalLM']);
    expect(config.model_type).toBe('llama');
    expect(config.hidden_act).toBe('silu');
    expect(config.tie_word_embeddings).toBe(true);
    expect(config.rope_scaling).toBeNull();
    const nh = config.num_attention_heads as number;
    const nkv = config.num_key_value_heads as number;
    expect(nh).toBeGreaterThan(nkv); // grouped-query attention, not MHA
    expect(nh % nkv).toBe(0);
    expect(config.head_dim).toBe((config.hidden_size as number) / nh);
  });

  it('model.safetensors holds exactly the LlamaForCausalLM tensors, F32, under 2.1 MB', () => {
    const bytes = readFileSync(resolve(dir, 'model.safetensors'));
    expect(statSync(resolve(dir, 'model.safetensors')).size).toBeLessThan(2_100_000);
    const st = readSafetensors(bytes, 'model.safetensors');
    const C = config.hidden_size as number;
    const I = config.intermediate_size as number;
    const V = config.vocab_size as number;
    const HS = config.head_dim as number;
    const NH = config.num_attention_heads as number;
    const NKV = config.num_key_value_heads as number;
    const want = new Map<string, number[]>([['model.embed_tokens.weight', [V, C]], ['model.norm.weight', [C]]]);
    for (let l = 0; l < (config.num_hidden_layers as number); l++) {
      const p = `model.layers.${l}.`;
      want.set(`${p}input_layernorm.weight`, [C]);
      want.set(`${p}post_attention_layernorm.weight`, [C]);
      want.set(`${p}self_attn.q_proj.weight`, [NH * HS, C]);
      want.set(`${p}self_attn.k_proj.weight`, [NKV * HS, C]);
      want.set(`${p}self_attn.v_proj.weight`, [NKV * HS, C]);
      want.set(`${p}self_attn.o_proj.weight`, [C, NH * HS]);
      want.set(`${p}mlp.gate_proj.weight`, [I, C]);
      want.set(`${p}mlp.up_proj.weight`, [I, C]);
      want.set(`${p}mlp.down_proj.weight`, [C, I]);
    }
    const got = new Map([...st.tensors].map(([k, t]) => [k, [...t.shape]]));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort()); // no lm_head (tied), no rotary buffers
    for (const [k, shape] of want) expect(got.get(k), k).toEqual(shape);
    for (const t of st.tensors.values()) expect(t.dtype).toBe('F32');
  });

  it("loads through the app's model loader as a llama with GQA, a tied head and seven LoRA targets per layer", async () => {
    const files = new Map<string, ArrayBuffer>();
    for (const n of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
      const b = readFileSync(resolve(dir, n));
      files.set(n, b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    const loaded = await loadModelDir(sourceFromMap(files));
    if (loaded.kind !== 'llama') throw new Error(`loaded as ${loaded.kind}`);
    expect(loaded.config.num_key_value_heads).toBe(config.num_key_value_heads);
    expect(loaded.config.eos_token_id).toEqual(config.eos_token_id);
    expect(loaded.tied).toBe(true);
    expect(loaded.warnings).toEqual([]);
    const mods = loraModules(loaded);
    expect(mods).toHaveLength(7 * (config.num_hidden_layers as number));
    expect(mods.slice(0, 7).map((m) => m.path)).toEqual(
      ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'].map((m) => `model.layers.0.${m}`),
    );
    expect(defaultTargets(loaded.kind)).toEqual(['q_proj', 'v_proj']); // what the studio preselects
  });

  it("the app's CPU reference on the loaded folder gives PyTorch's float64 loss and logits (llama_demo_check.json)", async () => {
    const check = JSON.parse(readFileSync(resolve(__dirname, '../../fixtures/demo/llama_demo_check.json'), 'utf8')) as { tokens: number[]; loss: number; last_logits: number[] };
    const files = new Map<string, ArrayBuffer>();
    for (const n of ['config.json', 'model.safetensors']) {
      const b = readFileSync(resolve(dir, n));
      files.set(n, b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    const loaded = await loadModelDir(sourceFromMap(files));
    if (loaded.kind !== 'llama') throw new Error(`loaded as ${loaded.kind}`);
    const spec = llamaSpecOf(loaded.config, loaded.tied);
    const V = loaded.config.vocab_size;
    const T = check.tokens.length - 1;
    const ids = check.tokens.slice(0, T);
    const { loss, count } = referenceLlamaLoss(spec, loaded.tensors, V, ids, check.tokens.slice(1), 1, T);
    expect(count).toBe(T);
    expect(Math.abs(loss - check.loss) / check.loss).toBeLessThan(1e-6); // float64 both (F32 weights)
    const logits = referenceLlamaLogits(spec, loaded.tensors, V, ids, 1, T).subarray((T - 1) * V);
    let worst = 0;
    for (let j = 0; j < V; j++) worst = Math.max(worst, Math.abs(logits[j] - check.last_logits[j]));
    expect(worst).toBeLessThan(1e-6); // the file rounds to 1e-8
  });

  it('the tokenizer loads with ChatML as single special tokens; eos is <|im_end|> and config.json stops on it', () => {
    const tok = loadTokenizer(tokFiles);
    expect(tok.vocabSize).toBe(config.vocab_size);
    const [start, end, eot] = ['<|im_start|>', '<|im_end|>', '<|endoftext|>'].map((t) => tok.tokenToId(t));
    for (const id of [start, end, eot]) expect(id).toBeGreaterThanOrEqual(0);
    expect(tok.encode('x<|im_start|>user\nhi<|im_end|>')).toEqual([...tok.encode('x'), start, ...tok.encode('user\nhi'), end]);
    expect(tok.eosTokenId).toBe(end);
    expect(config.eos_token_id).toContain(end);
    expect(config.eos_token_id).toContain(eot);
    const s = 'A fortune: "Never trust a computer you can\'t lift." -- Stan Mazor\n';
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('its chat_template renders ChatML as transformers does', () => {
    const tpl = new ChatTemplate(chatTemplateFromConfig(tokFiles.tokenizerConfig));
    const m: ChatMessage[] = [{ role: 'user', content: 'Define "Beauty".' }, { role: 'assistant', content: 'A bee.' }];
    expect(tpl.render(m)).toBe('<|im_start|>user\nDefine "Beauty".<|im_end|>\n<|im_start|>assistant\nA bee.<|im_end|>\n');
    expect(tpl.render(m.slice(0, 1), true)).toBe('<|im_start|>user\nDefine "Beauty".<|im_end|>\n<|im_start|>assistant\n');
  });
});

describe('the demo chat set', () => {
  const tok = loadTokenizer(tokFiles) as ByteLevelBpeTokenizer;
  const tpl = new ChatTemplate(chatTemplateFromConfig(tokFiles.tokenizerConfig));
  const end = tok.tokenToId('<|im_end|>') ?? -1;

  it('has a few hundred short user → assistant exchanges', () => {
    expect(rows.length).toBeGreaterThanOrEqual(300);
    const chats = rows.map((r, i) => messagesOf(r, i + 1));
    for (const c of chats) {
      expect(c.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(c[1].content.length).toBeGreaterThan(0);
    }
    expect(new Set(chats.map((c) => c[0].content)).size).toBeGreaterThan(rows.length * 0.9);
  });

  it("the app's chat path trains each reply and its <|im_end|>, nothing of the prompt, and fits 96 tokens", () => {
    const encode = byteLevelOffsets(tok);
    let longest = 0;
    rows.forEach((r, i) => {
      const messages = messagesOf(r, i + 1);
      const rendered = renderWithSpans(tpl, messages);
      const enc = encode(rendered.text);
      const mask = tokenMask(enc, rendered.spans);
      // Independently: the prompt with the generation prompt is a token prefix; the trained tokens are
      // exactly those after it up to and including the reply's <|im_end|> (the final "\n" is not trained).
      const prompt = tok.encode(tpl.render(messages.slice(0, 1), true));
      expect(enc.ids.slice(0, prompt.length)).toEqual(prompt);
      const last = enc.ids.lastIndexOf(end);
      expect(last).toBe(enc.ids.length - 2);
      const want = enc.ids.map((_, j) => (j >= prompt.length && j <= last ? 1 : 0));
      expect([...mask], `line ${i + 1}`).toEqual(want);
      longest = Math.max(longest, enc.ids.length);
    });
    expect(longest).toBeLessThanOrEqual(97); // seqLen 96 in the llama-demo presets: T + 1 tokens per sequence
  });
});
