// The rotary cos/sin tables of a model on the GPU: computed once on the CPU from the spec's rope config
// (../ref/rope_freq.ts, as transformers computes them in f32) and uploaded once per model, for positions
// 0 … P − 1. Every block and every pass (training, evaluation, KV-cached decode) reads the same two
// buffers; a pass's positions pos0 … pos0 + T − 1 must lie below P (the rope kernel checks).
import type { GpuContext } from '../gpu/context';
import { invFreq, ropeTable } from '../ref/rope_freq';
import type { FamilySpec } from './families/spec';

export interface RopeTables {
  cos: GPUBuffer; // (P, HS/2)
  sin: GPUBuffer; // (P, HS/2)
  P: number;
}

/** Uploads the tables for P positions (the longest sequence the model will run, ≤ the spec's maxPositions). */
export function uploadRopeTables(ctx: GpuContext, spec: FamilySpec, P: number): RopeTables {
  if (!spec.rotary) throw new Error(`${spec.family} engine: no rope config for rotary positions`);
  if (!Number.isInteger(P) || P < 1 || P > spec.rotary.maxPositions) {
    throw new Error(`${spec.family} engine: ${P} positions; must be 1..${spec.rotary.maxPositions} (max_position_embeddings)`);
  }
  const { cos, sin } = ropeTable(invFreq(spec.rotary.config, spec.attention.HS), P);
  return { cos: ctx.upload('rope.cos', cos), sin: ctx.upload('rope.sin', sin), P };
}

export function destroyRopeTables(t: RopeTables): void {
  t.cos.destroy();
  t.sin.destroy();
}
