// Property-based fuzzing of config.json and preprocessor_config.json (docs/failure-scenarios.md#a9, #b6): mutated
// files — keys removed, renamed, duplicated; wrong types; huge, negative and non-integer numbers; unknown
// model_type; nesting far past the strict cursor's limit; non-UTF-8 bytes, BOMs, truncation — go
// through parseModelConfig, parsePreprocessorConfig and loadModelDir with the tiny committed fixtures
// (test/fixtures/gpt2_tiny, vit_tiny). Only typed errors may come out (ModelDirError, or a
// SafetensorsError for the weights container) — never a TypeError or RangeError; what parses must be
// self-consistent; and harmless edits (formatting, key order, unknown keys) must still load.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Verdicts } from './verdicts';
import { loadModelDir, ModelDirError, sourceFromMap, type LoadedModel } from '../../../src/io/hfModel';
import { parsePreprocessorConfig } from '../../../src/io/preprocess';
import { SafetensorsError } from '../../../src/io/safetensors';
import { parseModelConfig, type ModelConfig } from '../../../src/io/hfModel/config';
import { applyBytes, applyTree, byteMutation, type ByteMutation, heapGrowth, HOSTILE_VALUES, Obj, params, parseJ, Raw, stringify, treeMutation, type J, type TreeMutation } from './json';

const NUM_RUNS = { parse: 3000, load: 1500, benign: 150, preprocessor: 2000 } as const;
const SEED = { parse: 0xc0f1, load: 0xc0f2, benign: 0xc0f3, preprocessor: 0xc0f4 } as const;

const fixture = (name: string, file: string) => readFileSync(new URL(`../../fixtures/${name}/${file}`, import.meta.url));
const BASES = {
  gpt2: { config: fixture('gpt2_tiny', 'config.json').toString('utf8'), weights: new Uint8Array(fixture('gpt2_tiny', 'model.safetensors')) },
  vit: { config: fixture('vit_tiny', 'config.json').toString('utf8'), weights: new Uint8Array(fixture('vit_tiny', 'model.safetensors')) },
};
// Matches vit_tiny (8×8, 3 channels).
const PREPROCESSOR = JSON.stringify({
  image_processor_type: 'ViTImageProcessor', do_resize: true, size: { height: 8, width: 8 }, resample: 2, do_rescale: true,
  rescale_factor: 0.00392156862745098, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5],
});

const CONFIG_KEYS = [
  'model_type', 'architectures', 'vocab_size', 'n_positions', 'n_embd', 'hidden_size', 'n_layer', 'n_head', 'num_attention_heads',
  'n_inner', 'activation_function', 'resid_pdrop', 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id', 'pad_token_id',
  'tie_word_embeddings', 'num_hidden_layers', 'intermediate_size', 'hidden_act', 'image_size', 'patch_size', 'num_channels',
  'id2label', 'label2id', 'num_labels', 'qkv_bias', 'encoder_stride', 'pooler_output_size', 'max_position_embeddings',
  // preprocessor_config.json
  'size', 'crop_size', 'do_center_crop', 'do_resize', 'image_mean', 'image_std', 'rescale_factor', 'resample', 'do_normalize',
];

/** Sets a (possibly absent) key to a value: wrong types, absurd sizes, unknown model types, aliases. */
type SetKey = { op: 'set'; key: number; value: number };
const SET_VALUES: J[] = [
  ...HOSTILE_VALUES, 'gpt2', 'vit', 'GPT2', 'bert', 'llama', '', new Raw('1e12'), new Raw('1000000000000'), new Raw('48.0'),
  new Raw('4194305'), new Raw('131073'), 3, 48, 16, 5, [8, 8], [8], [0, 8], ['GPT2LMHeadModel'], ['ViTModel', 'BertModel'],
  new Obj([['0', 'a'], ['1', 'b']]), new Obj([['1', 'a']]), new Obj([['a', new Raw('7')]]), new Obj([['a', '0']]),
];
const setKey: fc.Arbitrary<SetKey> = fc.record({ op: fc.constant('set' as const), key: fc.nat(CONFIG_KEYS.length - 1), value: fc.nat(SET_VALUES.length - 1) });

type Mutation = TreeMutation | SetKey;
const mutations = fc.array(fc.oneof(treeMutation(CONFIG_KEYS), setKey), { minLength: 1, maxLength: 3 });

function mutate(text: string, ms: readonly Mutation[]): string {
  const holder = { root: parseJ(text) };
  for (const m of ms) {
    if (m.op !== 'set') {
      applyTree(holder, m);
      continue;
    }
    if (!(holder.root instanceof Obj)) continue;
    const key = CONFIG_KEYS[m.key];
    const e = holder.root.entries.find(([k]) => k === key);
    if (e) e[1] = SET_VALUES[m.value];
    else holder.root.entries.push([key, SET_VALUES[m.value]]);
  }
  return stringify(holder.root);
}

function damaged(text: string, ms: readonly Mutation[], bytes: readonly ByteMutation[]): Uint8Array {
  let b: Uint8Array = new TextEncoder().encode(mutate(text, ms));
  for (const m of bytes) b = applyBytes(b, m);
  return b;
}

/** Only ModelDirError (with `code`), or SafetensorsError when `weightsToo`; anything else fails the property. */
function expectTyped(err: unknown, codes: readonly string[], weightsToo = false): void {
  if (err instanceof ModelDirError) {
    expect(codes, err.message).toContain(err.code);
    return;
  }
  if (weightsToo && err instanceof SafetensorsError) return;
  throw new Error(`untyped error leaked: ${String(err)}`, { cause: err });
}

const safe = (n: number, min = 1) => Number.isSafeInteger(n) && n >= min;

function checkConfig(c: ModelConfig): void {
  if (c.model_type === 'gpt2') {
    for (const n of [c.vocab_size, c.n_positions, c.n_embd, c.n_layer, c.n_head, c.n_inner]) expect(safe(n), String(n)).toBe(true);
    expect(c.n_embd % c.n_head).toBe(0);
    expect(Number.isInteger(c.head_size)).toBe(true);
    expect(Number.isFinite(c.layer_norm_epsilon) && c.layer_norm_epsilon > 0).toBe(true);
    for (const p of [c.resid_pdrop, c.embd_pdrop, c.attn_pdrop]) expect(p >= 0 && p <= 1).toBe(true);
    // Every element count the model will allocate stays exact.
    expect(safe(c.vocab_size * c.n_embd) && safe(c.n_embd * c.n_inner * c.n_layer)).toBe(true);
  } else if (c.model_type !== 'vit') {
    const { hidden_size: C, intermediate_size: I, num_attention_heads: NH, num_key_value_heads: NKV, head_dim: HS, vocab_size: V } = c;
    for (const n of [C, I, NH, NKV, HS, V, c.num_hidden_layers]) expect(safe(n), String(n)).toBe(true);
    expect(NH % NKV).toBe(0);
    expect(HS % 2).toBe(0);
    expect(safe(V * C) && safe(NH * HS * C * c.num_hidden_layers) && safe(3 * I * C * c.num_hidden_layers)).toBe(true);
    expect(c.eos_token_id.every((id) => safe(id, 0))).toBe(true);
  } else {
    for (const n of [c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size, c.num_channels, c.num_patches, c.num_labels]) {
      expect(safe(n), String(n)).toBe(true);
    }
    expect(c.hidden_size % c.num_attention_heads).toBe(0);
    expect(c.image_size[0] % c.patch_size[0] === 0 && c.image_size[1] % c.patch_size[1] === 0).toBe(true);
    expect(c.id2label.length).toBe(c.num_labels);
    expect(c.id2label.every((l) => typeof l === 'string')).toBe(true);
    for (const [name, id] of c.label2id) expect(c.id2label[id]).toBe(name);
  }
}

function folder(kind: 'gpt2' | 'vit', config: Uint8Array | string, preprocessor?: Uint8Array | string) {
  const files = new Map<string, Uint8Array | string>([['config.json', config], ['model.safetensors', BASES[kind].weights]]);
  if (preprocessor !== undefined) files.set('preprocessor_config.json', preprocessor);
  return sourceFromMap(files);
}

async function settle(p: Promise<LoadedModel>): Promise<{ ok: LoadedModel } | { err: unknown }> {
  return p.then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );
}

const kindArb = fc.constantFrom('gpt2' as const, 'vit' as const);
const bytesArb = fc.array(byteMutation, { maxLength: 1 });

describe('config.json fuzz (fast-check)', () => {
  it('the unmutated fixtures load', async () => {
    for (const kind of ['gpt2', 'vit'] as const) {
      const m = await loadModelDir(folder(kind, BASES[kind].config, kind === 'vit' ? PREPROCESSOR : undefined));
      expect(m.kind).toBe(kind);
      checkConfig(m.config);
    }
  });

  it(`parseModelConfig: a consistent config or MODEL_CONFIG (${NUM_RUNS.parse} runs, seed ${SEED.parse})`, () => {
    const verdicts = new Verdicts();
    fc.assert(
      fc.property(kindArb, mutations, bytesArb, (kind, ms, bs) => {
        let config: ModelConfig | undefined;
        try {
          config = parseModelConfig(damaged(BASES[kind].config, ms, bs));
        } catch (err) {
          expectTyped(err, ['MODEL_CONFIG']);
          verdicts.add((err as ModelDirError).code);
          return;
        }
        checkConfig(config);
        verdicts.add('parsed');
      }),
      params(SEED.parse, NUM_RUNS.parse),
    );
    // Both sides of the contract are exercised, not only the refusals.
    verdicts.expectExactly(['parsed', 'MODEL_CONFIG']);
    expect(verdicts.count('parsed')).toBeGreaterThan(NUM_RUNS.parse / 20);
  });

  it(`loadModelDir with a mutated config.json / preprocessor_config.json: loads or rejects typed (${NUM_RUNS.load} runs, seed ${SEED.load})`, async () => {
    const verdicts = new Verdicts();
    await fc.assert(
      fc.asyncProperty(kindArb, mutations, bytesArb, fc.option(mutations, { nil: undefined }), async (kind, ms, bs, pre) => {
        const pp = kind === 'vit' ? (pre ? mutate(PREPROCESSOR, pre) : PREPROCESSOR) : undefined;
        const r = await settle(loadModelDir(folder(kind, damaged(BASES[kind].config, ms, bs), pp)));
        if ('err' in r) {
          const codes = ['MODEL_CONFIG', 'MODEL_PREPROCESSOR', 'MODEL_TENSOR_MISSING', 'MODEL_TENSOR_SHAPE', 'MODEL_TENSOR_UNEXPECTED', 'MODEL_TIED_HEAD'];
          expectTyped(r.err, codes);
          verdicts.add((r.err as ModelDirError).code);
          return;
        }
        checkConfig(r.ok.config);
        expect(r.ok.kind).toBe(r.ok.config.model_type);
        verdicts.add('loaded');
      }),
      params(SEED.load, NUM_RUNS.load),
    );
    verdicts.expectExactly(['loaded', 'MODEL_CONFIG', 'MODEL_PREPROCESSOR', 'MODEL_TENSOR_MISSING', 'MODEL_TENSOR_SHAPE']);
    expect(verdicts.count('loaded')).toBeGreaterThan(NUM_RUNS.load / 20);
  });

  it(`harmless edits (whitespace, key order, unknown keys, metadata fields) still load the same model (${NUM_RUNS.benign} runs, seed ${SEED.benign})`, async () => {
    const unknown = fc.tuple(fc.string({ maxLength: 8 }).filter((k) => !CONFIG_KEYS.includes(k) && !(k in JSON.parse(BASES.gpt2.config)) && !(k in JSON.parse(BASES.vit.config))), fc.json({ depthSize: 'small' }));
    await fc.assert(
      fc.asyncProperty(kindArb, fc.nat(), fc.uniqueArray(unknown, { selector: (u) => u[0], maxLength: 3 }), fc.constantFrom('', ' ', '\n  ', '\t'), async (kind, rot, extra, ws) => {
        const root = parseJ(BASES[kind].config) as Obj;
        const k = rot % root.entries.length;
        root.entries = [...root.entries.slice(k), ...root.entries.slice(0, k)];
        for (const [key, json] of extra) root.entries.push([key, new Raw(json)]);
        const text = ws + stringify(root, ws) + ws;
        const ref = await loadModelDir(folder(kind, BASES[kind].config));
        const got = await loadModelDir(folder(kind, text));
        const { raw: _a, ...a } = got.config;
        const { raw: _b, ...b } = ref.config;
        expect(a).toEqual(b);
        expect([...got.tensors.keys()]).toEqual([...ref.tensors.keys()]);
      }),
      params(SEED.benign, NUM_RUNS.benign),
    );
  });

  // Regression (found by this fuzzer): a 41-byte config.json, {"model_type":"vit","num_labels":1048576}
  // with no id2label, made the parser build 2^20 "LABEL_i" strings and a 2^20-entry label2id (~170 MB).
  // The label cap is now 2^16: that file is refused before anything is built, and the largest
  // accepted count stays cheap.
  it('regression: num_labels 2^20 is refused before any label is built; 2^16 stays within 32 MB', () => {
    let err: unknown;
    const refused = heapGrowth(() => { try { parseModelConfig('{"model_type":"vit","num_labels":1048576}'); } catch (e) { err = e; } });
    expect(err).toBeInstanceOf(ModelDirError);
    expect((err as ModelDirError).message).toMatch(/num_labels/);
    expect(refused).toBeLessThan(32 << 20);
    const largest = heapGrowth(() => parseModelConfig('{"model_type":"vit","num_labels":65536}'));
    expect(largest).toBeLessThan(32 << 20);
  });

  it(`parsePreprocessorConfig: a config or MODEL_PREPROCESSOR (${NUM_RUNS.preprocessor} runs, seed ${SEED.preprocessor})`, () => {
    fc.assert(
      fc.property(mutations, bytesArb, (ms, bs) => {
        try {
          const p = parsePreprocessorConfig(damaged(PREPROCESSOR, ms, bs));
          expect(p.image_mean.every(Number.isFinite) && p.image_std.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
          expect(Number.isFinite(p.rescale_factor) && p.rescale_factor > 0).toBe(true);
        } catch (err) {
          expectTyped(err, ['MODEL_PREPROCESSOR']);
        }
      }),
      params(SEED.preprocessor, NUM_RUNS.preprocessor),
    );
  });
});
