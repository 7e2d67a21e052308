// The row reductions' workgroup-size variants (src/kernels/row_select.ts): every size the selector may pick
// on some device matches the CPU reference on ragged row lengths (through the selector's own check), and on
// SwiftShader the prepared kernels run the shipped size.
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../../src/gpu/features';
import { attentionBackwardRows, attentionForwardRows } from '../../src/kernels/attention';
import { gqaBackwardRows, gqaForwardRows, prepareGqaBackward, prepareGqaForward } from '../../src/kernels/attention_gqa';
import { layernormBackwardRows, layernormForwardRows, prepareLayernormForward } from '../../src/kernels/layernorm';
import { rmsnormBackwardRows, rmsnormForwardRows } from '../../src/kernels/rmsnorm';
import { ROW_WORKGROUPS, SOFTWARE_ROW_WORKGROUP, type RowKernelSpec, type RowData, rowCandidates } from '../../src/kernels/row_select';
import { prepareSoftmaxXentForward, softmaxXentForwardRows } from '../../src/kernels/softmax_xent';
import { testContext } from '../helpers/gpu';

const cases: [string, RowKernelSpec<any, Record<string, RowData>>, (n: number) => unknown][] = [
  ['layernorm_forward', layernormForwardRows as never, (C) => ({ B: 2, T: 3, C, eps: 1e-5 })],
  ['layernorm_backward (accumulating dx)', layernormBackwardRows as never, (C) => ({ B: 2, T: 3, C, eps: 1e-5, accumulateDx: true })],
  ['rmsnorm_forward', rmsnormForwardRows as never, (C) => ({ rows: 5, C, eps: 1e-6 })],
  ['rmsnorm_backward', rmsnormBackwardRows as never, (C) => ({ rows: 5, C, eps: 1e-6 })],
  ['softmax_xent_forward', softmaxXentForwardRows as never, (V) => ({ BT: 5, V })],
  ['attention_forward (causal)', attentionForwardRows as never, (T) => ({ B: 1, T, C: 12, NH: 2, causal: true })],
  ['attention_forward (bidirectional)', attentionForwardRows as never, (T) => ({ B: 1, T, C: 12, NH: 2, causal: false })],
  ['attention_backward (causal)', attentionBackwardRows as never, (T) => ({ B: 1, T, C: 12, NH: 2, causal: true })],
  ['attention_gqa_forward (GQA 4/2)', gqaForwardRows as never, (T) => ({ B: 1, T, NH: 4, NKV: 2, HS: 6 })],
  ['attention_gqa_backward (GQA 4/2)', gqaBackwardRows as never, (T) => ({ B: 1, T, NH: 4, NKV: 2, HS: 6 })],
];

describe('row-reduction workgroup variants vs CPU reference', () => {
  for (const [name, spec, shape] of cases) {
    it(`${name}: every workgroup size on rows of 1, 7, 33 and 300`, async () => {
      const ctx = await testContext();
      for (const n of [1, 7, 33, 300]) {
        const candidates = rowCandidates(ctx, spec, shape(n));
        expect(candidates.map((c) => c.id)).toEqual(ROW_WORKGROUPS.map((w) => `wg${w}`));
        for (const c of candidates) {
          const trial = await c.prepare();
          try {
            await trial.validate(); // throws with the first element off the reference
          } catch (e) {
            throw new Error(`${name} ${c.id} C=${n}: ${(e as Error).message}`);
          } finally {
            trial.dispose?.();
          }
        }
      }
    });
  }

  it('on SwiftShader the training kernels run the shipped workgroup of 4', async () => {
    const ctx = await testContext();
    expect(isSoftwareAdapter(ctx.adapterInfo)).toBe(true);
    const b = ctx.createBuffer('b', 4096);
    const ln = await prepareLayernormForward(ctx, { B: 1, T: 4, C: 64, eps: 1e-5 }, { x: b, w: b, b, y: ctx.createBuffer('y', 1024), mean: ctx.createBuffer('m', 16), rstd: ctx.createBuffer('r', 16) });
    expect(ln.label).toBe(`layernorm_forward/wg${SOFTWARE_ROW_WORKGROUP}`);
    const sx = await prepareSoftmaxXentForward(ctx, { BT: 2, V: 100 }, { logits: b, targets: ctx.createBuffer('t', 8), probs: ctx.createBuffer('p', 800), losses: ctx.createBuffer('l', 8) });
    expect(sx.label).toBe(`softmax_xent_forward/wg${SOFTWARE_ROW_WORKGROUP}`);
    const s = { B: 1, T: 4, NH: 2, NKV: 1, HS: 4 };
    const [gf] = await prepareGqaForward(ctx, s, { q: b, k: b, v: b, att: ctx.createBuffer('a', 256), out: ctx.createBuffer('o', 256) });
    const [gb] = await prepareGqaBackward(ctx, s, { dout: b, q: b, k: b, v: b, att: b, dpreatt: ctx.createBuffer('d', 256), dq: ctx.createBuffer('dq', 256), dk: ctx.createBuffer('dk', 256), dv: ctx.createBuffer('dv', 256) });
    expect(gf.label).toBe(`attention_gqa_forward/wg${SOFTWARE_ROW_WORKGROUP}`);
    expect(gb.label).toBe(`attention_gqa_backward/wg${SOFTWARE_ROW_WORKGROUP}`);
    for (const l of [ln, sx, gf, gb]) l.destroy();
  });
});
