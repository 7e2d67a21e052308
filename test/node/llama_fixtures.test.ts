// The Llama-family fixtures of test/fixtures/gen_llama_fixtures.py read with the project's own strict reader:
// the model folders (config.json, dtypes, HF names and shapes from the config, the shard index) and the state
// files (magic, settings, every tensor's name and shape, byte-for-byte the canonical writer's output, the
// stored loss equal to the cross-entropy of the stored logits). A stale or hand-edited fixture fails here
// with the command that regenerates it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type F32Tensor, type SafetensorsFile, readSafetensors, writeSafetensors } from '../../src/io/safetensors';

const DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const REGEN = 'python3 test/fixtures/gen_llama_fixtures.py';
const STALE = `stale or damaged fixture: regenerate with \`${REGEN}\` (from the repository root)`;

const readBytes = (rel: string) => new Uint8Array(readFileSync(join(DIR, rel)));
const readJson = (rel: string) => JSON.parse(readFileSync(join(DIR, rel), 'utf8')) as Record<string, unknown>;

const ATTN = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const ALL7 = [...ATTN, 'gate_proj', 'up_proj', 'down_proj'];

const FAMILIES = [
  { name: 'llama', dtype: 'F32', shards: 0, targets: ALL7 },
  { name: 'mistral', dtype: 'BF16', shards: 2, targets: ['q_proj', 'v_proj'] },
  { name: 'qwen2', dtype: 'F16', shards: 0, targets: ATTN },
  { name: 'qwen3', dtype: 'BF16', shards: 0, targets: ALL7 },
] as const;

interface Cfg { C: number; I: number; L: number; NH: number; NKV: number; HS: number; V: number; tied: boolean; qkvBias: boolean; qkNorm: boolean }

function cfgOf(name: string, c: Record<string, unknown>): Cfg {
  const n = (k: string) => c[k] as number;
  return {
    C: n('hidden_size'), I: n('intermediate_size'), L: n('num_hidden_layers'), NH: n('num_attention_heads'),
    NKV: n('num_key_value_heads'), HS: (c.head_dim as number | undefined) ?? n('hidden_size') / n('num_attention_heads'),
    V: n('vocab_size'), tied: c.tie_word_embeddings as boolean, qkvBias: name === 'qwen2', qkNorm: name === 'qwen3',
  };
}

/** (in, out) of each linear module (nn.Linear stores [out, in]). */
const dims = (c: Cfg): Record<string, [number, number]> => ({
  q_proj: [c.C, c.NH * c.HS], k_proj: [c.C, c.NKV * c.HS], v_proj: [c.C, c.NKV * c.HS], o_proj: [c.NH * c.HS, c.C],
  gate_proj: [c.C, c.I], up_proj: [c.C, c.I], down_proj: [c.I, c.C],
});
const modPath = (l: number, m: string) => `model.layers.${l}.${ATTN.includes(m) ? 'self_attn' : 'mlp'}.${m}`;

/** The HF tensors a checkpoint of this config holds, with their shapes. */
function modelShapes(c: Cfg): Map<string, number[]> {
  const out = new Map<string, number[]>([['model.embed_tokens.weight', [c.V, c.C]], ['model.norm.weight', [c.C]]]);
  if (!c.tied) out.set('lm_head.weight', [c.V, c.C]);
  for (let l = 0; l < c.L; l++) {
    for (const [m, [i, o]] of Object.entries(dims(c))) {
      out.set(`${modPath(l, m)}.weight`, [o, i]);
      if (c.qkvBias && ['q_proj', 'k_proj', 'v_proj'].includes(m)) out.set(`${modPath(l, m)}.bias`, [o]);
    }
    out.set(`model.layers.${l}.input_layernorm.weight`, [c.C]);
    out.set(`model.layers.${l}.post_attention_layernorm.weight`, [c.C]);
    if (c.qkNorm) for (const n of ['q_norm', 'k_norm']) out.set(`model.layers.${l}.self_attn.${n}.weight`, [c.HS]);
  }
  return out;
}

/** Mean cross-entropy over rows whose label is not −100, in float64. */
function meanCrossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  let sum = 0, n = 0;
  for (let r = 0; r < labels.length; r++) {
    if (labels[r] === -100) continue;
    let m = -Infinity, z = 0;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[r * k + j]);
    for (let j = 0; j < k; j++) z += Math.exp(logits[r * k + j] - m);
    sum += Math.log(z) + m - logits[r * k + labels[r]];
    n++;
  }
  return sum / n;
}

function expectCanonical(bytes: Uint8Array, f: SafetensorsFile): void {
  const tensors = new Map<string, F32Tensor>([...f.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
  const again = writeSafetensors(tensors, { metadata: f.metadata });
  expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes)), `not canonical safetensors: ${STALE}`).toBe(0);
}

for (const fam of FAMILIES) {
  describe(`Llama-family fixture ${fam.name}`, () => {
    const folder = `llama_${fam.name}_tiny`;
    const config = readJson(`${folder}/config.json`);
    const c = cfgOf(fam.name, config);

    it('config.json is what transformers writes for the family (sorted keys, architecture, dtype)', () => {
      const keys = Object.keys(config);
      expect(keys, STALE).toEqual([...keys].sort());
      expect(config.model_type).toBe(fam.name);
      expect(config.architectures).toEqual([`${fam.name === 'qwen2' ? 'Qwen2' : fam.name === 'qwen3' ? 'Qwen3' : fam.name[0].toUpperCase() + fam.name.slice(1)}ForCausalLM`]);
      expect(config.torch_dtype).toBe({ F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[fam.dtype]);
    });

    it(`the weights: ${fam.dtype}${fam.shards ? `, ${fam.shards} shards + index` : ''}, HF names, shapes from config.json`, () => {
      const tensors = new Map<string, { dtype: string; shape: number[] }>();
      if (fam.shards) {
        const index = readJson(`${folder}/model.safetensors.index.json`) as { metadata: { total_size: number }; weight_map: Record<string, string> };
        const files = [...new Set(Object.values(index.weight_map))].sort();
        expect(files).toEqual(Array.from({ length: fam.shards }, (_, k) => `model-${String(k + 1).padStart(5, '0')}-of-${String(fam.shards).padStart(5, '0')}.safetensors`));
        let total = 0;
        for (const file of files) {
          const f = readSafetensors(readBytes(`${folder}/${file}`), file);
          for (const [n, t] of f.tensors) {
            expect(index.weight_map[n], `${n} is in ${file}`).toBe(file);
            tensors.set(n, { dtype: t.dtype, shape: [...t.shape] });
            total += t.raw.byteLength;
          }
        }
        expect(index.metadata.total_size).toBe(total);
      } else {
        for (const [n, t] of readSafetensors(readBytes(`${folder}/model.safetensors`), 'model.safetensors').tensors) tensors.set(n, { dtype: t.dtype, shape: [...t.shape] });
      }
      const want = modelShapes(c);
      expect([...tensors.keys()].sort(), STALE).toEqual([...want.keys()].sort());
      for (const [n, shape] of want) expect(tensors.get(n), n).toEqual({ dtype: fam.dtype, shape });
    });

    for (const dora of [false, true]) {
      const file = `llama_states/${fam.name}_${dora ? 'dora_' : ''}state.safetensors`;
      it(`${file}: settings, every tensor and shape, canonical bytes, loss = cross-entropy of the logits`, () => {
        const bytes = readBytes(file);
        const f = readSafetensors(bytes, file);
        const meta = Object.fromEntries(f.metadata ?? []);
        expect(meta, STALE).toMatchObject({
          magic: 'lorasc-fixture', version: '1', model: folder, B: '2', T: '11', lora_r: '3', lora_alpha: '7',
          target_modules: fam.targets.join(','), lr: '0.01', betas: '0.9,0.999', eps: '1e-08', weight_decay: '0.01',
          steps: '5', decode_prompt: '4', regen: REGEN,
        });
        expect(meta.use_dora).toBe(dora ? 'true' : undefined);
        const B = 2, T = 11, R = 3;
        const want = new Map<string, number[]>([
          ['input_ids', [B, T]], ['labels', [B, T]], ['logits', [B, T, c.V]], ['loss', [1]], ['adamw_losses', [5]],
          ['decode_ids', [13]], ['decode_logits', [10, c.V]],
        ]);
        if (!dora) for (const [n, s] of [['cli_input_ids', [29]], ['cli_logits', [29, c.V]], ['cli_loss', [1]]] as const) want.set(n, [...s]);
        for (let l = 0; l < c.L; l++) {
          for (const m of fam.targets) {
            const [i, o] = dims(c)[m];
            const k = `base_model.model.${modPath(l, m)}`;
            const parts: [string, number[]][] = [[`${k}.lora_A.weight`, [R, i]], [`${k}.lora_B.weight`, [o, R]]];
            if (dora) parts.push([`${k}.lora_magnitude_vector`, [o]]);
            for (const [n, s] of parts) for (const p of ['', 'grad.', 'adamw.']) want.set(p + n, s);
          }
        }
        expect([...f.tensors.keys()].sort(), STALE).toEqual([...want.keys()].sort());
        for (const [n, s] of want) expect([...f.get(n).shape], n).toEqual(s);
        for (const n of f.tensors.keys()) if (n.startsWith('grad.')) expect(f.get(n).data.some((v) => v !== 0), `${n} is all zero`).toBe(true);
        expectCanonical(bytes, f);
        const loss = f.get('loss').data[0];
        expect(Math.abs(meanCrossEntropy(f.get('logits').data, f.get('labels').data, c.V) - loss) / loss).toBeLessThan(1e-6);
        expect(f.get('adamw_losses').data[0]).toBe(loss);
        expect(f.get('labels').data.filter((v) => v === -100).length).toBe(2 + 1 + 3); // T−1 of both rows, row 0 position 4, row 1's last 3
        if (!dora) {
          const ids = f.get('cli_input_ids').data;
          const next = Float32Array.from({ length: ids.length }, (_, i) => (i + 1 < ids.length ? ids[i + 1] : -100));
          expect(Math.abs(meanCrossEntropy(f.get('cli_logits').data, next, c.V) - f.get('cli_loss').data[0])).toBeLessThan(1e-5);
        }
      });
    }
  });
}
