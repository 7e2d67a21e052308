// dropout family: inverted dropout from an explicit Philox uniform mask (LoRA dropout, PEFT's
// lora_dropout on the LoRA input only). See shaders/dropout_apply.wgsl and src/ref/dropout.ts.
import dropoutApplyWgsl from '../../shaders/dropout_apply.wgsl?raw';
import type { BufferBinding, GpuContext, Launch } from '../gpu/context';
import { KernelShapeError } from '../gpu/errors';
import { type DropoutShape, dropoutScale } from '../ref/dropout';
import { FLAT_WG, checkCount, flatDispatch } from './elementwise';
import { type KernelDescriptor, f32, u32 } from '../gpu/kernel';

export type { DropoutShape };

export const dropoutApplyKernel: KernelDescriptor<DropoutShape> = {
  name: 'dropout_apply',
  wgsl: dropoutApplyWgsl,
  bindings: ['dims:uniform', 'x:read', 'u:read', 'out:rw'],
  uniforms: (s) => [u32(s.n), f32(s.p), f32(dropoutScale(s.p))],
  overrides: (s) => ({ WG: FLAT_WG, ACCUMULATE: s.accumulate ? 1 : 0 }),
  dispatch: (s) => flatDispatch(s.n, s),
  key: (s) => `dropout_apply/wg${FLAT_WG}${s.accumulate ? '/acc' : ''}`,
};

export function checkDropoutShape(s: DropoutShape): void {
  checkCount('dropout_apply', 'n', s.n);
  if (!(s.p >= 0 && s.p < 1)) throw new KernelShapeError(`dropout_apply: p=${s.p} must be in [0, 1)`);
}

/** out (=, or += with accumulate) x ⊙ keep(u); out must be another buffer than x and u. */
export function prepareDropoutApply(
  ctx: GpuContext, s: DropoutShape, buf: { x: BufferBinding; u: BufferBinding; out: BufferBinding },
): Promise<Launch> {
  checkDropoutShape(s);
  return ctx.prepare(dropoutApplyKernel, s, buf);
}

export async function runDropoutApply(
  ctx: GpuContext, s: DropoutShape, buf: { x: BufferBinding; u: BufferBinding; out: BufferBinding },
): Promise<void> {
  const l = await prepareDropoutApply(ctx, s, buf);
  ctx.submit([l], l.label);
  l.destroy();
}
