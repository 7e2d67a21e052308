// The golden fixtures of test/fixtures/ (docs/engineering.md#whole-step-tests), read with the project's own strict reader: the magic
// and version, the metadata, every tensor name and shape the fixture contract promises, the two model folders,
// and that each file is byte-for-byte what the canonical writer produces. A stale or hand-edited fixture
// fails here with the command that regenerates it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors, type F32Tensor, type SafetensorsFile } from '../../src/io/safetensors';

const DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const REGEN = 'python3 test/fixtures/gen_fixtures.py';
const STALE = `stale or damaged fixture: regenerate with \`${REGEN}\` (from the repository root)`;

const read = (rel: string): { bytes: Uint8Array; f: SafetensorsFile } => {
  const bytes = new Uint8Array(readFileSync(join(DIR, rel)));
  return { bytes, f: readSafetensors(bytes, rel) };
};
const readJson = (rel: string): Record<string, unknown> => JSON.parse(readFileSync(join(DIR, rel), 'utf8')) as Record<string, unknown>;

const COMMON = {
  format: 'pt',
  magic: 'lorasc-fixture',
  version: '1',
  lora_r: '4',
  lora_alpha: '8',
  lr: '0.01',
  betas: '0.9,0.999',
  eps: '1e-08',
  weight_decay: '0.0',
  steps: '5',
  regen: REGEN,
};

function expectShapes(f: SafetensorsFile, expected: Map<string, number[]>): void {
  const names = [...f.tensors.keys()].sort();
  expect(names, STALE).toEqual([...expected.keys()].sort());
  for (const [name, shape] of expected) {
    const t = f.get(name);
    expect(t.dtype, `${name}: ${STALE}`).toBe('F32');
    expect([...t.shape], `${name}: ${STALE}`).toEqual(shape);
  }
}

/** The canonical writer (docs/formats.md#safetensors-writer) must reproduce the file byte for byte. */
function expectCanonical(bytes: Uint8Array, f: SafetensorsFile): void {
  const tensors = new Map<string, F32Tensor>([...f.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
  const again = writeSafetensors(tensors, { metadata: f.metadata });
  expect(again.length, STALE).toBe(bytes.length);
  expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes)), `not canonical safetensors: ${STALE}`).toBe(0);
}

/** Mean cross-entropy over rows whose label is not −100, in float64. */
function meanCrossEntropy(logits: Float32Array, labels: Float32Array, k: number): number {
  let sum = 0;
  let n = 0;
  for (let r = 0; r < labels.length; r++) {
    if (labels[r] === -100) continue;
    const row = logits.subarray(r * k, (r + 1) * k);
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - m);
    sum += Math.log(z) + m - row[labels[r]];
    n++;
  }
  return sum / n;
}

function expectStateBasics(f: SafetensorsFile, loraNames: string[]): void {
  const loss = f.get('loss').data[0];
  const losses = f.get('adamw_losses').data;
  expect(Number.isFinite(loss), STALE).toBe(true);
  expect(losses[0], `adamw_losses[0] must equal loss: ${STALE}`).toBeCloseTo(loss, 6);
  for (const name of loraNames) {
    for (const n of [name, `grad.${name}`]) {
      expect(f.get(n).data.some((v) => v !== 0), `${n} is all zero: ${STALE}`).toBe(true);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// GPT-2
// ---------------------------------------------------------------------------------------------------------
const G = { C: 48, NH: 3, L: 2, V: 101, NP: 16, B: 2, T: 13, R: 4 };

function gpt2LoraShapes(): Map<string, number[]> {
  const { C, L, R } = G;
  const dims: [string, number, number][] = [['attn.c_attn', C, 3 * C], ['attn.c_proj', C, C], ['mlp.c_fc', C, 4 * C], ['mlp.c_proj', 4 * C, C]];
  const out = new Map<string, number[]>();
  for (let i = 0; i < L; i++) {
    for (const [mod, fanIn, fanOut] of dims) {
      out.set(`base_model.model.transformer.h.${i}.${mod}.lora_A.weight`, [R, fanIn]);
      out.set(`base_model.model.transformer.h.${i}.${mod}.lora_B.weight`, [fanOut, R]);
    }
  }
  return out;
}

describe('fixture test/fixtures/gpt2_tiny_state.safetensors', () => {
  const { bytes, f } = read('gpt2_tiny_state.safetensors');
  const lora = gpt2LoraShapes();

  it('carries the magic, the version and the run settings', () => {
    expect(Object.fromEntries(f.metadata ?? []), STALE).toEqual({
      ...COMMON, model: 'gpt2_tiny', B: '2', T: '13', target_modules: 'c_attn,c_proj,c_fc',
    });
  });

  it('holds exactly the promised tensors with their shapes', () => {
    const { B, T, V } = G;
    const expected = new Map<string, number[]>([
      ['input_ids', [B, T]], ['labels', [B, T]], ['logits', [B, T, V]], ['loss', [1]], ['adamw_losses', [5]],
    ]);
    for (const [name, shape] of lora) {
      expected.set(name, shape);
      expected.set(`grad.${name}`, shape);
    }
    expectShapes(f, expected);
    expectCanonical(bytes, f);
  });

  it('has shifted labels, a padded row 1, and a loss that matches its logits', () => {
    const { B, T, V } = G;
    const ids = f.get('input_ids').data;
    const labels = f.get('labels').data;
    for (const v of ids) expect(Number.isInteger(v) && v >= 0 && v < V, STALE).toBe(true);
    for (let b = 0; b < B; b++) {
      expect(labels[b * T + T - 1], STALE).toBe(-100);
      for (let t = 0; t < T - 1; t++) {
        const l = labels[b * T + t];
        if (l !== -100) expect(l, STALE).toBe(ids[b * T + t + 1]);
      }
    }
    expect(labels.subarray(0, T - 1).every((v) => v !== -100), STALE).toBe(true);
    expect(labels.subarray(T, 2 * T - 1).some((v) => v === -100), STALE).toBe(true);
    const loss = f.get('loss').data[0];
    expect(meanCrossEntropy(f.get('logits').data, labels, V), STALE).toBeCloseTo(loss, 5);
    expectStateBasics(f, [...lora.keys()]);
  });
});

describe('fixture test/fixtures/gpt2_tiny/', () => {
  const { C, L, V, NP } = G;

  it('config.json is the contract GPT-2', () => {
    expect(readJson('gpt2_tiny/config.json'), STALE).toMatchObject({
      model_type: 'gpt2', n_embd: C, n_head: G.NH, n_layer: L, vocab_size: V, n_positions: NP, n_inner: null,
      activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true,
      resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0,
    });
  });

  it('model.safetensors has the HF names with the `transformer.` prefix and a tied head', () => {
    const { bytes, f } = read('gpt2_tiny/model.safetensors');
    expect(Object.fromEntries(f.metadata ?? []), STALE).toEqual({ format: 'pt' });
    const expected = new Map<string, number[]>([
      ['transformer.wte.weight', [V, C]], ['transformer.wpe.weight', [NP, C]],
      ['transformer.ln_f.weight', [C]], ['transformer.ln_f.bias', [C]],
    ]);
    for (let i = 0; i < L; i++) {
      const p = `transformer.h.${i}.`;
      for (const ln of ['ln_1', 'ln_2']) {
        expected.set(`${p}${ln}.weight`, [C]);
        expected.set(`${p}${ln}.bias`, [C]);
      }
      for (const [mod, fanIn, fanOut] of [['attn.c_attn', C, 3 * C], ['attn.c_proj', C, C], ['mlp.c_fc', C, 4 * C], ['mlp.c_proj', 4 * C, C]] as const) {
        expected.set(`${p}${mod}.weight`, [fanIn, fanOut]);
        expected.set(`${p}${mod}.bias`, [fanOut]);
      }
    }
    expectShapes(f, expected);
    expectCanonical(bytes, f);
  });
});

// ---------------------------------------------------------------------------------------------------------
// ViT
// ---------------------------------------------------------------------------------------------------------
const VT = { C: 48, NH: 3, L: 2, I: 96, image: 8, patch: 4, P: 4, channels: 3, labels: 5, B: 2, R: 4 };

describe('fixture test/fixtures/vit_tiny_state.safetensors', () => {
  const { bytes, f } = read('vit_tiny_state.safetensors');
  const lora = new Map<string, number[]>();
  for (let i = 0; i < VT.L; i++) {
    for (const m of ['query', 'value']) {
      lora.set(`base_model.model.vit.encoder.layer.${i}.attention.attention.${m}.lora_A.weight`, [VT.R, VT.C]);
      lora.set(`base_model.model.vit.encoder.layer.${i}.attention.attention.${m}.lora_B.weight`, [VT.C, VT.R]);
    }
  }

  it('carries the magic, the version and the run settings', () => {
    expect(Object.fromEntries(f.metadata ?? []), STALE).toEqual({
      ...COMMON, model: 'vit_tiny', B: '2', T: String(VT.P + 1), target_modules: 'query,value',
    });
  });

  it('holds exactly the promised tensors with their shapes', () => {
    const { B, channels, image, labels, C } = VT;
    const expected = new Map<string, number[]>([
      ['pixel_values', [B, channels, image, image]], ['labels', [B]], ['logits', [B, labels]], ['loss', [1]],
      ['adamw_losses', [5]], ['grad.classifier.weight', [labels, C]], ['grad.classifier.bias', [labels]],
    ]);
    for (const [name, shape] of lora) {
      expected.set(name, shape);
      expected.set(`grad.${name}`, shape);
    }
    expectShapes(f, expected);
    expectCanonical(bytes, f);
  });

  it('has integer labels and a loss that matches its logits', () => {
    const labels = f.get('labels').data;
    for (const v of labels) expect(Number.isInteger(v) && v >= 0 && v < VT.labels, STALE).toBe(true);
    expect(meanCrossEntropy(f.get('logits').data, labels, VT.labels), STALE).toBeCloseTo(f.get('loss').data[0], 5);
    expectStateBasics(f, [...lora.keys()]);
    for (const n of ['grad.classifier.weight', 'grad.classifier.bias']) {
      expect(f.get(n).data.some((v) => v !== 0), `${n} is all zero: ${STALE}`).toBe(true);
    }
  });
});

describe('fixture test/fixtures/vit_tiny/', () => {
  const { C, L, I, patch, P, channels, labels } = VT;

  it('config.json is the tiny ViTForImageClassification', () => {
    const cfg = readJson('vit_tiny/config.json');
    expect(cfg, STALE).toMatchObject({
      architectures: ['ViTForImageClassification'], model_type: 'vit', hidden_size: C, num_hidden_layers: L,
      num_attention_heads: VT.NH, intermediate_size: I, hidden_act: 'gelu', layer_norm_eps: 1e-12,
      image_size: VT.image, patch_size: patch, num_channels: channels, qkv_bias: true,
    });
    expect(Object.keys(cfg.id2label as object), STALE).toHaveLength(labels);
    expect(Object.keys(cfg.label2id as object), STALE).toHaveLength(labels);
  });

  it('model.safetensors has the `vit.` names of ViTForImageClassification', () => {
    const { bytes, f } = read('vit_tiny/model.safetensors');
    expect(Object.fromEntries(f.metadata ?? []), STALE).toEqual({ format: 'pt' });
    const expected = new Map<string, number[]>([
      ['vit.embeddings.cls_token', [1, 1, C]],
      ['vit.embeddings.position_embeddings', [1, P + 1, C]],
      ['vit.embeddings.patch_embeddings.projection.weight', [C, channels, patch, patch]],
      ['vit.embeddings.patch_embeddings.projection.bias', [C]],
      ['vit.layernorm.weight', [C]], ['vit.layernorm.bias', [C]],
      ['classifier.weight', [labels, C]], ['classifier.bias', [labels]],
    ]);
    for (let i = 0; i < L; i++) {
      const p = `vit.encoder.layer.${i}.`;
      for (const ln of ['layernorm_before', 'layernorm_after']) {
        expected.set(`${p}${ln}.weight`, [C]);
        expected.set(`${p}${ln}.bias`, [C]);
      }
      for (const [mod, fanIn, fanOut] of [
        ['attention.attention.query', C, C], ['attention.attention.key', C, C], ['attention.attention.value', C, C],
        ['attention.output.dense', C, C], ['intermediate.dense', C, I], ['output.dense', I, C],
      ] as const) {
        expected.set(`${p}${mod}.weight`, [fanOut, fanIn]);
        expected.set(`${p}${mod}.bias`, [fanOut]);
      }
    }
    expectShapes(f, expected);
    expectCanonical(bytes, f);
  });
});
