// Frozen weights in their stored precision (docs/engineering.md#frozen-weights) on a BF16 checkpoint
// (the Qwen3 fixture): the packed engine and the F32 engine hold the same values, so their loss and
// LoRA gradients agree at F32 tolerance while the packed one holds the frozen linears, embedding and head
// in half the bytes; rewriting a packed base weight is refused in one line; the runs that rewrite it
// (cascades, merged-weight engines) are built with F32 weights.
import { describe, expect, it } from 'vitest';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { LlamaLoraModel } from '../../../src/model/llama/model';
import { resolveConfig } from '../../../src/train/config';
import { createPlainEngine, engineOptions } from '../../../src/train/engine';
import { linearModules } from '../../../src/train/modules';
import { expectAllClose } from '../../helpers/allclose';
import { testContext } from '../../helpers/gpu';
import { TOL } from '../../helpers/tolerances';

async function qwen3(): Promise<LoadedLlama> {
  const files = new Map<string, Uint8Array>();
  for (const n of ['config.json', 'model.safetensors']) {
    const res = await fetch(`/test/fixtures/llama_qwen3_tiny/${n}`);
    files.set(n, new Uint8Array(await res.arrayBuffer()));
  }
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== 'llama') throw new Error('qwen3 fixture is not a Llama-family model');
  return loaded;
}

describe('frozen BF16 weights packed vs F32', () => {
  it('same loss and gradients; the 2-D frozen weights take half the GPU bytes', async () => {
    const ctx = await testContext();
    const loaded = await qwen3();
    expect(loaded.tensors.get('embed_tokens.weight')?.dtype).toBe('BF16');
    const o = { targetModules: ['q_proj', 'v_proj'], r: 4, scale: 2, B: 2, T: 8, seed: 5 };
    const packed = await LlamaLoraModel.create(ctx, loaded, o);
    const f32 = await LlamaLoraModel.create(ctx, loaded, { ...o, frozenWeights: 'f32' });
    try {
      const V = loaded.config.vocab_size;
      const ids = Uint32Array.from({ length: 16 }, (_, i) => (i * 7 + 3) % V);
      const labels = Int32Array.from({ length: 16 }, (_, i) => (i === 3 ? -100 : (i * 5 + 1) % V));
      // B ≠ 0, so the LoRA path counts.
      const lora = new Map([...await f32.readLoraWeights()].map(([k, v]) => [k, Float32Array.from(v, (x, i) => x + 0.05 * Math.cos(i))]));
      packed.setLoraWeights(lora);
      f32.setLoraWeights(lora);
      expectAllClose(await packed.forwardLogits(ids), await f32.forwardLogits(ids), TOL.matmul, 'logits');
      const [lp, lf] = [(await packed.step(ids, labels)).loss, (await f32.step(ids, labels)).loss];
      expectAllClose([lp], [lf], { atol: 0, rtol: 2e-6 }, 'loss');
      const gf = await f32.readGrads();
      for (const [name, g] of await packed.readGrads()) expectAllClose(g, gf.get(name)!, TOL.backward, `grad ${name}`);

      const bytes = (m: LlamaLoraModel) => {
        const w = m.parts.weights;
        const twoD = [...w.embedChunks, ...(loaded.tied ? [] : w.headChunks), ...w.layers.flatMap((b) => Object.values(b.linear).map((l) => l.w))];
        return twoD.reduce((n, b) => n + b.size, 0);
      };
      expect(bytes(packed) / bytes(f32)).toBeLessThanOrEqual(0.5 + 1e-3); // 2 bytes per parameter (+ ≤ 2 bytes per tensor of padding)
    } finally {
      packed.destroy();
      f32.destroy();
    }
  });

  it('rewriting a packed base weight is refused in one line that names the option; F32 engines accept it', async () => {
    const ctx = await testContext();
    const loaded = await qwen3();
    const o = { targetModules: ['q_proj'], r: 2, scale: 1, B: 1, T: 4 };
    const path = 'model.layers.0.self_attn.q_proj';
    const w = loaded.tensors.get('layers.0.self_attn.q_proj.weight')!.data;
    const packed = await LlamaLoraModel.create(ctx, loaded, o);
    try {
      expect(() => packed.setBaseWeight(path, w)).toThrow(/packed BF16.*frozenWeights 'f32'/);
    } finally {
      packed.destroy();
    }
    // A merged backbone goes into an F32 engine (the export's parity check).
    const plain = await createPlainEngine(ctx, loaded, { B: 1, T: 4 }, new Map([[path, w]]));
    try {
      expect(plain.parts.weights.layers[0].linear['self_attn.q_proj'].format).toBe('f32');
    } finally {
      plain.destroy();
    }
  });

  it('cascade methods (LoRASC, COLA) train with F32 frozen weights; plain LoRA keeps the stored precision', async () => {
    const loaded = await qwen3();
    const targets = linearModules(loaded).slice(0, 1);
    expect(engineOptions(resolveConfig({ method: 'lorasc', targetModules: ['q_proj'] }), targets, 8).frozenWeights).toBe('f32');
    expect(engineOptions(resolveConfig({ method: 'cola', targetModules: ['q_proj'] }), targets, 8).frozenWeights).toBe('f32');
    expect(engineOptions(resolveConfig({ method: 'lora', targetModules: ['q_proj'] }), targets, 8).frozenWeights).toBe('stored');
  });
});
