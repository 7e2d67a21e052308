// Issue 13 items 1 and 6 in the studio's worker side (src/worker/studio.ts), driven directly in Chromium with
// the demo GPT-2 dropped as File objects: the weights file is read only through File.slice (its own
// arrayBuffer() throws), the load reads the headers and the run's start uploads the weights with progress up to every byte; after a 2-step LoRA run the merged model
// is written tensor by tensor into a directory handle (the File System Access API's; here OPFS's) in BF16,
// every element the F32 merge rounded once, with the rounding figure and the sampled-rows merge check, and as
// a streamed zip (F32) that comes back as a disk-backed File whose safetensors equal the run's merged weights.
import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { f32ToBf16Bits } from '../../../src/io/export';
import { bf16BitsToF32Bits, readSafetensors } from '../../../src/io/safetensors';
import type { TrainResult } from '../../../src/train/trainer';
import type { StudioEvent } from '../../../src/worker/protocol';
import { Studio } from '../../../src/worker/studio';

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bf16 = (x: number) => { u32[0] = bf16BitsToF32Bits(f32ToBf16Bits(x)); return f32[0]; };

describe('studio: streamed load and export', () => {
  it('loads a dropped folder through File.slice with progress, exports merged BF16 to a folder and F32 as a streamed zip', async () => {
    const names = ['config.json', 'model.safetensors', 'tokenizer.json'];
    const files = await Promise.all(names.map(async (n) => {
      const f = new File([await (await fetch(`/demo/gpt2-fortunes/${n}`)).arrayBuffer()], n);
      // The weights file refuses a whole read: the worker must go through File.slice.
      if (n === 'model.safetensors') Object.defineProperty(f, 'arrayBuffer', { value: () => Promise.reject(new Error('whole-file read of model.safetensors')) });
      return f;
    }));
    const events: StudioEvent[] = [];
    const studio = new Studio('/', (e) => events.push(e));
    const info = await studio.loadModel({ kind: 'files', label: 'gpt2-dropped', files });
    expect(info.kind).toBe('gpt2');
    const progressOf = () => events.filter((e): e is Extract<StudioEvent, { kind: 'load-progress' }> => e.kind === 'load-progress').map((e) => e.progress);
    // Load read the headers only: the bar says so, with the weights' size still on disk.
    const atLoad = progressOf();
    expect(atLoad.map((p) => p.phase)).toEqual(['headers']);
    expect(atLoad[0]).toMatchObject({ source: 'files', done: true, bytes: 0 });
    expect(atLoad[0].totalBytes).toBeGreaterThan(1_000_000);

    const text = Array.from({ length: 24 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n');
    await studio.loadData({ kind: 'text', name: 'notes.txt', bytes: new TextEncoder().encode(text).buffer as ArrayBuffer }, 16);
    studio.start('s13', { method: 'lora', maxSteps: 2, seqLen: 16, batchSize: 2, r: 2, evalExamples: 2, lr: 5e-2 });
    const state = () => events.filter((e): e is Extract<StudioEvent, { kind: 'run-state' }> => e.kind === 'run-state' && e.runId === 's13').pop();
    for (let t = 0; !['done', 'error', 'stopped', 'interrupted'].includes(state()?.state ?? ''); t += 50) {
      if (t > 120_000) throw new Error('run timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state()?.state, state()?.message).toBe('done');
    // The run's start uploaded the weights with the bar moving up to every byte (the step-timing probe was never asked for here).
    const upload = progressOf().slice(1).filter((p) => p.purpose === 'run s13');
    expect(upload.length).toBeGreaterThan(1);
    expect(upload.every((p) => p.phase === 'upload')).toBe(true);
    expect(upload[upload.length - 1]).toMatchObject({ done: true, bytes: atLoad[0].totalBytes, totalBytes: atLoad[0].totalBytes });
    expect(upload[upload.length - 1].stopped).toBeUndefined();
    const result = (studio as unknown as { runs: Map<string, { result: TrainResult }> }).runs.get('s13')!.result;

    // BF16 into a directory handle (OPFS stands in for showDirectoryPicker's: the same FileSystemDirectoryHandle).
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle(`export-test-${Date.now().toString(36)}`, { create: true });
    const reply = await studio.export('s13', 'merged', 'BF16', { kind: 'directory', handle: root });
    expect(reply.written).toContain('model.safetensors');
    expect(reply.mergeCheck?.passes).toBe(true);
    expect(reply.mergeCheck?.tensors).toBe(result.merged.size);
    expect(reply.rounding?.dtype).toBe('BF16');
    expect(reply.rounding!.changed).toBeGreaterThan(0);
    expect(events.some((e) => e.kind === 'export-progress' && e.runId === 's13')).toBe(true);
    const dir = await root.getDirectoryHandle('s13-merged');
    const st = readSafetensors(await (await (await dir.getFileHandle('model.safetensors')).getFile()).arrayBuffer());
    const cfg = JSON.parse(await (await (await dir.getFileHandle('config.json')).getFile()).text());
    expect(cfg.torch_dtype).toBe('bfloat16');
    for (const [path, w] of result.merged) {
      const t = st.tensors.get(`transformer.${path.replace(/^transformer\./, '')}.weight`) ?? st.tensors.get(`${path}.weight`);
      expect(t, path).toBeDefined();
      expect(t!.dtype).toBe('BF16');
      expect(Array.from(t!.data)).toEqual(Array.from(w, bf16));
    }

    // F32 as a streamed zip: a File from the origin's private storage, not bytes.
    const zipReply = await studio.export('s13', 'merged', 'F32', { kind: 'zip' });
    expect(zipReply.file).toBeInstanceOf(File);
    expect(zipReply.bytes).toBeUndefined();
    const zip = unzipSync(new Uint8Array(await zipReply.file!.arrayBuffer()));
    const zst = readSafetensors(zip['s13-merged/model.safetensors']);
    for (const [path, w] of result.merged) {
      const t = zst.tensors.get(`transformer.${path.replace(/^transformer\./, '')}.weight`) ?? zst.tensors.get(`${path}.weight`);
      expect(t!.dtype).toBe('F32');
      expect(Array.from(t!.data)).toEqual(Array.from(w));
    }
    expect(JSON.parse(new TextDecoder().decode(zip['s13-merged/config.json'])).torch_dtype).toBe('float32');
    expect(zip['s13-merged/tokenizer.json']).toBeDefined();
  });
});
