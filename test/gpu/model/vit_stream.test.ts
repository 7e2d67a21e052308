// Streamed ViT weights straight to the GPU (issue 13 item 1, the ViT engine): a streamed load reads only
// headers, and VitLoraModel.create reads each canonical tensor once, uploads it (the checkpoint's
// classifier goes into the trainable arena instead) and moves on, so JS never holds more than one tensor
// of the model. Proved by counting (test/helpers/streamedBuild.ts), not timing; the engine equals the one
// built from the same files in memory, exactly. A BF16 checkpoint is widened to F32 one tensor at a time
// (ViT has no packed kernels) and gives exactly the engine of an F32 file holding the same values.
import { describe, expect, it } from 'vitest';
import { type LoadedVit, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import { readSafetensors, writeSafetensors } from '../../../src/io/safetensors';
import { type VitLoraOptions, VitLoraModel } from '../../../src/model/vit/model';
import { testContext } from '../../helpers/gpu';
import { expectOneTensorAtATime, fixtureFiles, streamedBuild } from '../../helpers/streamedBuild';

const CLASSIFIER = ['classifier.weight', 'classifier.bias'];
const B = 2;
const pixels = Float32Array.from({ length: B * 3 * 8 * 8 }, (_, i) => Math.sin(0.37 * i + 0.2));

const options = (o: Partial<VitLoraOptions>): VitLoraOptions => ({
  targetModules: ['query', 'value', 'intermediate.dense'], r: 2, scale: 2, seed: 3,
  adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, ...o,
});

/** Every trainable value moved off PEFT's init (B ≠ 0, so the adapter acts); DoRA's m left as initialised. */
async function perturbed(model: VitLoraModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of await model.readLoraWeights()) out.set(k, k.endsWith('lora_magnitude_vector') ? v : Float32Array.from(v, (x, i) => x + 0.05 * Math.cos(i + k.length)));
  return out;
}

/** Logits, loss and gradients of one step: the streamed and the in-memory engine must give the same bits. */
async function expectSameEngine(streamed: VitLoraModel, memory: VitLoraModel, labels: Int32Array): Promise<void> {
  const values = await perturbed(memory);
  memory.setLoraWeights(values);
  streamed.setLoraWeights(values);
  expect(await streamed.forwardLogits(pixels)).toEqual(await memory.forwardLogits(pixels));
  expect((await streamed.step(pixels, labels)).loss).toBe((await memory.step(pixels, labels)).loss);
  expect(await streamed.readGrads()).toEqual(await memory.readGrads());
}

/** 16-bit BF16 words of each F32 value (truncated: the test needs BF16 values, not the nearest ones). */
const bf16Words = (x: Float32Array): Uint16Array => Uint16Array.from(new Uint32Array(Float32Array.from(x).buffer), (w) => w >>> 16);

/**
 * The checkpoint with every tensor rounded to BF16 and stored as BF16 (2 bytes each) or as F32 holding
 * the very same values. The BF16 file is laid out here by hand, independently of the app's writers.
 */
function bf16Checkpoint(file: Uint8Array, dtype: 'BF16' | 'F32'): Uint8Array {
  const tensors = [...readSafetensors(file, 'model.safetensors').tensors].map(([name, t]) => ({ name, shape: t.shape, words: bf16Words(t.data) }));
  if (dtype === 'F32') {
    return writeSafetensors(new Map(tensors.map((t) => [t.name, { shape: t.shape, data: new Float32Array(Uint32Array.from(t.words, (w) => w << 16).buffer) }])));
  }
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + 2 * t.words.length] };
    offset += 2 * t.words.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.words.buffer), at);
    at += 2 * t.words.length;
  }
  return out;
}

describe('streamed ViT load uploads tensor by tensor', () => {
  it('ViT with DoRA and the checkpoint head: one tensor at a time, the same magnitudes, head, logits, loss and grads as in memory', async () => {
    const ctx = await testContext();
    const files = await fixtureFiles('vit_tiny');
    const o = options({ useDora: true });
    const memory = (await loadModelDir(sourceFromMap(files))) as LoadedVit;
    expect(memory.head.newHead).toBe(false);
    const ref = await VitLoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => VitLoraModel.create(ctx, m as LoadedVit, o), { trainable: CLASSIFIER });
    try {
      expectOneTensorAtATime(s.loaded, files, s);
      for (const n of CLASSIFIER) expect(s.ledger.reads).toContain(n); // the head was read from the file, once
      // DoRA's m = the base row norms taken during the upload; the head = the checkpoint's.
      expect(await s.engine.readLoraWeights()).toEqual(await ref.readLoraWeights());
      expect((await s.engine.readParams()).get('classifier.bias')).toEqual(memory.tensors.get('classifier.bias')?.data);
      await expectSameEngine(s.engine, ref, Int32Array.from([3, 1]));
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });

  it('BF16 ViT with a new 3-class head: widened to F32 one tensor at a time, the same engine as the F32 file of the same values', async () => {
    const ctx = await testContext();
    const f32 = await fixtureFiles('vit_tiny');
    const files = new Map([...f32, ['model.safetensors', bf16Checkpoint(f32.get('model.safetensors') as Uint8Array, 'BF16')]]);
    const widened = new Map([...f32, ['model.safetensors', bf16Checkpoint(f32.get('model.safetensors') as Uint8Array, 'F32')]]);
    const o = options({});
    const memory = (await loadModelDir(sourceFromMap(widened), { numClasses: 3 })) as LoadedVit;
    expect(memory.head).toMatchObject({ newHead: true, reason: 'class-count', numClasses: 3 });
    const ref = await VitLoraModel.create(ctx, memory, o);
    const s = await streamedBuild(ctx, files, (m) => VitLoraModel.create(ctx, m as LoadedVit, o), { load: { numClasses: 3 } });
    try {
      expect(s.loaded.tensors.get('encoder.layer.0.intermediate.dense.weight')?.dtype).toBe('BF16');
      for (const n of CLASSIFIER) expect(s.loaded.tensors.has(n)).toBe(false); // the 5-class head is not the task's
      expectOneTensorAtATime(s.loaded, files, s);
      expect(s.engine.numLabels).toBe(3);
      expect(await s.engine.readLoraWeights()).toEqual(await ref.readLoraWeights()); // the same seeded new head
      await expectSameEngine(s.engine, ref, Int32Array.from([2, 0]));
    } finally {
      ref.destroy();
      s.engine.destroy();
    }
  });
});
