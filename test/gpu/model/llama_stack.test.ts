// The block engine on Llama-family specs (RMSNorm, rotary positions, grouped-query attention, q/k norms,
// gated SiLU MLP, biases per role) against the independent Float64 CPU reference
// (src/model/llama/reference.ts): the stack's output at odd shapes, and every LoRA/DoRA gradient the
// stack's backward accumulates against central finite differences of the reference.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { BaseNorms, type LoraSlot, initialLoraValues, layoutSlots } from '../../../src/model/adaptedLinear';
import { ArenaLayout, TrainableArena } from '../../../src/model/arena';
import { type StackPass, destroyStack, planStack, prepareStackBackward, prepareStackForward, uploadBlocks } from '../../../src/model/block';
import { type ReferenceAdapter, doraRowNorms, referenceLlamaStack } from '../../../src/model/llama/reference';
import { destroyRopeTables, uploadRopeTables } from '../../../src/model/rotary';
import { expectAllClose } from '../../helpers/allclose';
import { numericGrad } from '../../helpers/finiteDiff';
import { testContext } from '../../helpers/gpu';
import { uniformF32 } from '../../helpers/random';
import { type TinyLlama, type TinyOptions, tinyLlama } from './llamaTiny';

/** A stack on the GPU with adapters on `targets` (suffixes), random nonzero A, B (and DoRA m). */
async function gpuStack(ctx: GpuContext, m: TinyLlama, B: number, T: number, targets: string[], useDora: boolean, seed: number) {
  const bufs: GPUBuffer[] = [];
  const blocks = uploadBlocks(m.spec, m.tensors, (name) => {
    const t = m.tensors.get(name);
    if (!t) throw new Error(`no ${name}`);
    const b = ctx.upload(name, t.data);
    bufs.push(b);
    return b;
  });
  const layout = new ArenaLayout(ctx.limits.minStorageBufferOffsetAlignment);
  const slots = layoutSlots(layout, m.modules, { targetModules: targets, r: 2, scale: 1.5, useDora }, m.spec.family);
  const arena = TrainableArena.create(ctx, layout, 'test-lora');
  await arena.gradOps.ready();
  const byPath = new Map(slots.map((s) => [s.path, s]));
  // Nonzero B so every adapter path carries signal; DoRA's m off its initial norms so m/norm ≠ 1.
  const values = initialLoraValues(slots, seed, new BaseNorms(m.tensors));
  for (const s of slots) {
    values.set(s.b.name, uniformF32(s.b.numel, seed + s.index + 100, -0.5, 0.5));
    if (s.m) values.set(s.m.name, (values.get(s.m.name) as Float32Array).map((v, i) => v * (0.8 + 0.05 * (i % 7))));
  }
  arena.write('params', values, true);
  const acts = planStack(ctx, m.spec, B, T, (l, mod) => byPath.get(`${m.spec.peftPrefix(l)}${mod}`), 'test');
  const rope = uploadRopeTables(ctx, m.spec, T);
  const pass: StackPass = { ctx, spec: m.spec, blocks, acts, byPath, arena, rope };
  const destroy = () => { destroyStack(acts); destroyRopeTables(rope); arena.destroy(); for (const b of bufs) b.destroy(); };
  return { pass, slots, values, arena, acts, destroy };
}

/** The reference's adapters from the arena values (f64 copies), DoRA norms held at `norms` when given. */
function referenceAdapters(slots: LoraSlot[], values: ReadonlyMap<string, ArrayLike<number>>, norms?: Map<string, Float64Array>): Map<string, ReferenceAdapter> {
  return new Map(slots.map((s) => [s.path, {
    A: values.get(s.a.name) as ArrayLike<number>, B: values.get(s.b.name) as ArrayLike<number>, R: s.R, scale: s.scale,
    ...(s.m ? { m: values.get(s.m.name) as ArrayLike<number>, norm: norms?.get(s.path) } : {}),
  }]));
}

async function runForward(ctx: GpuContext, pass: StackPass, x: Float32Array): Promise<Float32Array> {
  ctx.write(pass.acts.resid[0], x);
  const launches = await prepareStackForward(pass);
  ctx.submit(launches, 'test/stack-forward');
  for (const l of launches) l.destroy();
  return ctx.readF32(pass.acts.resid[pass.spec.L], x.length);
}

const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/**
 * Stack output: F32 GPU vs Float64 reference of two blocks, O(1) values: a dozen chained reductions
 * (norms, dots of ≤ 24 terms, softmax), so a few e-6 absolute; the bound leaves ~10× headroom.
 */
const FORWARD_TOL = { atol: 3e-5, rtol: 1e-4 };

describe('block engine, Llama-family specs, vs the Float64 reference', () => {
  let ctx: GpuContext;
  beforeAll(async () => { ctx = await testContext(); });

  const cases: [string, TinyOptions, { B: number; T: number; targets: string[]; dora: boolean }][] = [
    ['MHA (NKV = NH = 3), HS 4 with C 10, q/k/v, o and MLP biases, LoRA on all seven',
      { hidden_size: 10, num_attention_heads: 3, num_key_value_heads: 3, head_dim: 4, intermediate_size: 7, qkvBias: true, oBias: true, mlpBias: true },
      { B: 2, T: 5, targets: ALL, dora: false }],
    ['GQA ratio 2 (NH 4, NKV 2), HS 6 with C 16, Qwen3 q/k norms and q/k/v biases, llama3 rope, DoRA on q, v, down',
      { model_type: 'qwen3', hidden_size: 16, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 6, intermediate_size: 9,
        qkvBias: true, qkNorm: true, rope_theta: 100,
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } },
      { B: 1, T: 7, targets: ['q_proj', 'v_proj', 'down_proj'], dora: true }],
    ['GQA ratio 3 (NH 6, NKV 2) and MQA-like depth, HS 2 with C 20, linear rope scaling, LoRA on o, gate, up',
      { hidden_size: 20, num_attention_heads: 6, num_key_value_heads: 2, head_dim: 2, intermediate_size: 11, num_hidden_layers: 3,
        rope_scaling: { type: 'linear', factor: 2.5 } },
      { B: 2, T: 4, targets: ['o_proj', 'gate_proj', 'up_proj'], dora: false }],
    ['MQA (NKV 1, NH 3), HS 8 with C 8, Mistral-style, LoRA on k', { model_type: 'mistral', hidden_size: 8, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 8 },
      { B: 1, T: 6, targets: ['k_proj'], dora: false }],
  ];

  for (const [name, opts, run] of cases) {
    it(name, async () => {
      const m = tinyLlama(opts);
      const g = await gpuStack(ctx, m, run.B, run.T, run.targets, run.dora, 7);
      try {
        const x = uniformF32(run.B * run.T * m.spec.C, 3);
        const got = await runForward(ctx, g.pass, x);
        const want = referenceLlamaStack(m.spec, m.tensors, x, run.B, run.T, referenceAdapters(g.slots, g.values));
        expectAllClose(got, want, FORWARD_TOL, 'resid[L]');
        // The adapters matter: without them the output differs well beyond the tolerance.
        const base = referenceLlamaStack(m.spec, m.tensors, x, run.B, run.T);
        expect(Math.max(...want.map((v, i) => Math.abs(v - base[i])))).toBeGreaterThan(1e-2);
      } finally {
        g.destroy();
      }
    });
  }

  /**
   * Gradients: F32 GPU backward vs Float64 central differences (h = 1e-5, error ~1e-10) of the reference's
   * Σ dOut ⊙ stack(x). The GPU's F32 rounding through the forward and backward of two blocks is ~1e-6
   * absolute on gradients of magnitude ≤ 1.
   */
  const GRAD_TOL = { atol: 2e-5, rtol: 1e-3 };
  for (const dora of [false, true]) {
    it(`every ${dora ? 'DoRA (A, B, m)' : 'LoRA (A, B)'} gradient of the seven modules matches finite differences (GQA 2, HS ≠ C/NH, q/k norms, biases)`, async () => {
      const m = tinyLlama({ model_type: 'qwen3', hidden_size: 8, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, intermediate_size: 6,
        qkNorm: true, qkvBias: true, oBias: true, mlpBias: true, rope_theta: 50 });
      const B = 1, T = 3;
      const g = await gpuStack(ctx, m, B, T, ALL, dora, 11);
      try {
        const x = uniformF32(B * T * m.spec.C, 5);
        const dOut = uniformF32(B * T * m.spec.C, 6);
        await runForward(ctx, g.pass, x);
        g.arena.clearGrads();
        ctx.write(g.acts.dresid, dOut);
        const launches = await prepareStackBackward(g.pass);
        ctx.submit(launches, 'test/stack-backward');
        for (const l of launches) l.destroy();
        const grads = await g.arena.read('grads');
        // DoRA's norm is detached (PEFT): hold it at its value at the evaluation point.
        const f64 = new Map([...g.values].map(([k, v]) => [k, Float64Array.from(v)]));
        const norms = new Map(g.slots.filter((s) => s.m).map((s) => {
          const w = m.tensors.get(s.weight)?.data as Float32Array;
          return [s.path, doraRowNorms(w, referenceAdapters([s], f64).get(s.path) as ReferenceAdapter, s.IN, s.OUT)];
        }));
        const adapters = referenceAdapters(g.slots, f64, norms);
        const objective = () => {
          const y = referenceLlamaStack(m.spec, m.tensors, x, B, T, adapters);
          let s = 0;
          for (let i = 0; i < y.length; i++) s += dOut[i] * y[i];
          return s;
        };
        let checked = 0;
        for (const [name, v] of f64) {
          const fd = numericGrad(() => objective(), v, 1e-5);
          expectAllClose(grads.get(name) as Float32Array, fd, GRAD_TOL, name);
          expect(Math.max(...fd.map(Math.abs)), `${name} has a gradient`).toBeGreaterThan(1e-4);
          checked++;
        }
        expect(checked).toBe(g.slots.length * (dora ? 3 : 2));
      } finally {
        g.destroy();
      }
    });
  }
});
