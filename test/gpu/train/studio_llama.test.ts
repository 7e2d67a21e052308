// The studio worker (src/worker/studio.ts) with a Llama-family model dropped as files: it loads a tiny
// Qwen3 with its tokenizer, names the modules a target list can use, prepares text, trains a 2-step LoRA
// run on q_proj … down_proj and generates with the base and the tuned model (KV-cached decoding).
import { describe, expect, it } from 'vitest';
import { loadModelDir } from '../../../src/io/hfModel';
import type { StudioEvent } from '../../../src/worker/protocol';
import { Studio } from '../../../src/worker/studio';
import { source } from '../../node/hfModel/fixtures';
import { llamaConfig, llamaFolder, llamaTensors, shapeOf } from '../../node/hfModel/llamaFixtures';

describe('studio with a Llama-family model', () => {
  it('loads, prepares text, trains 2 steps and generates base and tuned text', async () => {
    // V 1025: the GPT-2 demo tokenizer's ids, so its tokenizer.json serves the text path.
    const files = llamaFolder(llamaConfig('qwen3', { vocab_size: 1025, eos_token_id: 1024, bos_token_id: null }), llamaTensors(shapeOf('qwen3', { V: 1025 })));
    expect((await loadModelDir(source(files))).kind).toBe('llama');
    const tokenizer = await (await fetch('/demo/gpt2-fortunes/tokenizer.json')).arrayBuffer();
    const bytes = (x: Uint8Array | string) => (typeof x === 'string' ? new TextEncoder().encode(x) : x).slice().buffer as ArrayBuffer;
    const events: StudioEvent[] = [];
    const studio = new Studio('/', (e) => events.push(e));
    const info = await studio.loadModel({ kind: 'files', label: 'qwen3-tiny', files: [...[...files].map(([name, x]) => ({ name, bytes: bytes(x) })), { name: 'tokenizer.json', bytes: tokenizer }] });
    expect(info.kind).toBe('llama');
    expect(info.moduleNames).toEqual(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']);
    expect(info.defaultTargets).toEqual(['q_proj', 'v_proj']);
    expect(info.nPositions).toBe(64);
    const text = Array.from({ length: 24 }, (_, i) => `Fortune ${i} favours the bold and the curious.`).join('\n');
    const preview = await studio.loadData({ kind: 'text', name: 'notes.txt', bytes: bytes(text) }, 12);
    expect(preview.kind).toBe('text');
    studio.start('llama-run', { method: 'lora', targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], r: 2, maxSteps: 2, seqLen: 12, batchSize: 2, evalExamples: 2, lr: 5e-2 });
    const state = () => events.filter((e): e is Extract<StudioEvent, { kind: 'run-state' }> => e.kind === 'run-state' && e.runId === 'llama-run').pop()?.state;
    for (let t = 0; !['done', 'error', 'stopped', 'interrupted'].includes(state() ?? ''); t += 50) {
      if (t > 120_000) throw new Error(`timed out; last events ${JSON.stringify(events.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state(), JSON.stringify(events.filter((e) => e.kind === 'run-state').pop())).toBe('done');
    const out = await studio.generate({ id: 1, type: 'generate', prompt: 'Fortune', runId: 'llama-run', maxNewTokens: 4, temperature: 0, topK: 0, seed: 0 });
    expect(out.base.startsWith('Fortune')).toBe(true);
    expect(out.tuned?.startsWith('Fortune')).toBe(true);
    expect(out.base.length).toBeGreaterThan('Fortune'.length);
  });
});
