// Will this run fit? A planning estimate made before anything is allocated: the frozen weights, the
// trainable tensors with their gradients and AdamW moments, and the activations the plan keeps for
// the backward pass, against the device's buffer limits. The engine still checks every buffer itself.
import type { LoadedModel } from '../io/hfModel';
import type { TrainingConfig } from '../train/config';
import { targetedModules } from '../train/modules';
import type { MemoryEstimate } from './protocol';
import { llamaContext } from '../model/families/llama';

export function estimateMemory(loaded: LoadedModel, c: TrainingConfig, limits: GPUSupportedLimits): Omit<MemoryEstimate, 'size'> {
  const F = 4;
  const targets = targetedModules(loaded, c.targetModules);
  const lora = targets.reduce((n, m) => n + c.r * (m.IN + m.OUT) + (c.useDora || c.method === 'dora' ? m.OUT : 0), 0);
  let acts: number, largest: number;
  if (loaded.kind === 'gpt2') {
    const { n_embd: C, n_inner: I, n_layer: L, vocab_size: V, n_positions } = loaded.config;
    const T = Math.min(c.seqLen, n_positions), N = c.batchSize * T;
    // Per layer: ln1, qkv, attention probs (B·NH·T·T), attn out, resid, ln2, fc, gelu(fc); then logits and probs.
    const perLayer = N * (C * 6 + 3 * C + I * 2) + c.batchSize * loaded.config.n_head * T * T;
    acts = L * perLayer + 2 * N * V + N * C * 4;
    largest = Math.max(N * V, V * C) * F;
  } else if (loaded.kind === 'llama') {
    const { hidden_size: C, intermediate_size: I, num_hidden_layers: L, vocab_size: V, num_attention_heads: NH, num_key_value_heads: NKV, head_dim: HS } = loaded.config;
    const T = Math.min(c.seqLen, llamaContext(loaded.config)), N = c.batchSize * T;
    // Per layer (src/model/block.ts, grouped path): ln1, q, k, v (+ raw q, k with q/k norms), attention probs
    // (B·NH·T·T), attention out, resid, ln2, gate, up, silu·up; then the head's lnf, logits and probs.
    const qk = loaded.config.qkNorm ? NH * HS + NKV * HS : 0;
    const perLayer = N * (C * 3 + 2 * NH * HS + 2 * NKV * HS + qk + I * 3) + c.batchSize * NH * T * T;
    acts = L * perLayer + 2 * N * V + N * C * 4;
    largest = Math.max(N * V, V * C, c.batchSize * NH * T * T) * F;
  } else {
    const { hidden_size: C, intermediate_size: I, num_hidden_layers: L, num_attention_heads: NH, image_size, patch_size } = loaded.config;
    const P = (image_size[0] / patch_size[0]) * (image_size[1] / patch_size[1]) + 1;
    const N = c.batchSize * P;
    acts = L * (N * (C * 9 + I * 2) + c.batchSize * NH * P * P) + N * C * 4;
    largest = Math.max(N * I, c.batchSize * NH * P * P) * F;
  }
  const bytes = (loaded.memory.parameters + 4 * lora) * F + acts * F;
  const limitBuffer = limits.maxBufferSize, limitBinding = limits.maxStorageBufferBindingSize;
  const fits = largest <= Math.min(limitBuffer, limitBinding);
  return {
    bytes, largestBuffer: largest, limitBuffer, limitBinding, fits,
    ...(fits ? {} : { why: `the largest buffer would be ${(largest / 2 ** 20).toFixed(0)} MiB; this device binds at most ${(Math.min(limitBuffer, limitBinding) / 2 ** 20).toFixed(0)} MiB. Lower the batch size or sequence length.` }),
  };
}
