// PEFT for the Llama families (docs/formats.md#llama-peft): module paths `model.layers.{l}.<module>`
// (the XForCausalLM class path, whatever prefix the file had), nn.Linear layout, PEFT's default targets
// ["q_proj", "v_proj"], adapter_config.json for a causal LM, and the folder reader.
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedLlama, loadModelDir, sourceFromMap } from '../../../src/io/hfModel';
import {
  buildAdapterFiles, defaultTargets, loraModules, matchesModule, parseAdapterConfig, readAdapterDir, writeAdapterConfig,
} from '../../../src/io/peft';
import { targetedModules } from '../../../src/train/modules';
import { resolveConfig } from '../../../src/train/config';
import { llamaConfig, llamaFolder, llamaTensors, shapeOf } from '../hfModel/llamaFixtures';
import { expectRefusal, loraTensors } from './helpers';

async function load(family: 'llama' | 'qwen3', prefix = 'model.'): Promise<LoadedLlama> {
  const m = await loadModelDir(sourceFromMap(llamaFolder(llamaConfig(family), llamaTensors(shapeOf(family), prefix), 'BF16')));
  if (m.kind !== 'llama') throw new Error('not a llama');
  return m;
}

const folder = (files: Map<string, Uint8Array>) => sourceFromMap(files);
const R = 3;
let qwen3: LoadedLlama;
let bare: LoadedLlama;
beforeAll(async () => {
  qwen3 = await load('qwen3');
  bare = await load('llama', '');
});

const config = (o: Partial<Parameters<typeof writeAdapterConfig>[0]> = {}) => ({
  modelKind: 'llama' as const, baseModelNameOrPath: 'Qwen/Qwen3-0.6B', r: R, loraAlpha: 6, loraDropout: 0,
  targetModules: ['q_proj', 'v_proj'], useRslora: false, useDora: false, modulesToSave: null, ...o,
});

describe('Llama-family LoRA modules', () => {
  it('seven nn.Linear modules per layer, model.layers.{l}.…, in/out from the loaded weights (qwen3 HS 10)', () => {
    const mods = loraModules(qwen3);
    expect(mods).toHaveLength(14);
    expect(mods.slice(0, 7).map((m) => [m.path, m.weight, m.layout, m.IN, m.OUT])).toEqual([
      ['model.layers.0.self_attn.q_proj', 'layers.0.self_attn.q_proj.weight', 'linear', 24, 30],
      ['model.layers.0.self_attn.k_proj', 'layers.0.self_attn.k_proj.weight', 'linear', 24, 10],
      ['model.layers.0.self_attn.v_proj', 'layers.0.self_attn.v_proj.weight', 'linear', 24, 10],
      ['model.layers.0.self_attn.o_proj', 'layers.0.self_attn.o_proj.weight', 'linear', 30, 24],
      ['model.layers.0.mlp.gate_proj', 'layers.0.mlp.gate_proj.weight', 'linear', 24, 40],
      ['model.layers.0.mlp.up_proj', 'layers.0.mlp.up_proj.weight', 'linear', 24, 40],
      ['model.layers.0.mlp.down_proj', 'layers.0.mlp.down_proj.weight', 'linear', 40, 24],
    ]);
  });

  it('PEFT paths keep `model.` for a bare checkpoint (PEFT names the class path, not the file keys)', () => {
    expect(bare.prefix).toBe('');
    expect(loraModules(bare)[0].path).toBe('model.layers.0.self_attn.q_proj');
    expect(loraModules(bare)[0].weight).toBe('layers.0.self_attn.q_proj.weight');
  });

  it('PEFT default targets are q_proj and v_proj; all-linear is the seven, never lm_head; the llama preset uses the default', () => {
    expect(defaultTargets('llama')).toEqual(['q_proj', 'v_proj']);
    const picked = targetedModules(qwen3, defaultTargets('llama') as string[]).map((m) => m.path);
    expect(picked).toEqual(['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.q_proj', 'model.layers.1.self_attn.v_proj']);
    expect(loraModules(qwen3).filter((m) => matchesModule(m.path, 'all-linear'))).toHaveLength(14);
    expect(loraModules(qwen3).some((m) => m.path.includes('lm_head') || m.path.includes('embed'))).toBe(false);
    expect(resolveConfig({}, 'llama-default').targetModules).toEqual(['q_proj', 'v_proj']);
  });

  it('an unmatched target names this model\'s modules', () => {
    expect(() => targetedModules(qwen3, ['c_attn'])).toThrow(/self_attn\.q_proj, self_attn\.k_proj.*mlp\.down_proj/);
  });
});

describe('Llama-family adapter_config.json and adapter folders', () => {
  it('adapter_config.json: task_type CAUSAL_LM, fan_in_fan_out false, the base name and targets', () => {
    const c = parseAdapterConfig(writeAdapterConfig(config()));
    expect([c.taskType, c.fanInFanOut, c.baseModelNameOrPath, c.targetModules, c.modulesToSave]).toEqual(['CAUSAL_LM', false, 'Qwen/Qwen3-0.6B', ['q_proj', 'v_proj'], null]);
  });

  it('build → read round trip (LoRA on all seven, DoRA magnitudes per output row)', async () => {
    const mods = loraModules(qwen3);
    const tensors = loraTensors(mods, R, true);
    const got = await readAdapterDir(folder(buildAdapterFiles({ config: config({ targetModules: 'all-linear', useDora: true }), tensors })), qwen3);
    expect(got.warnings).toEqual([]);
    expect(got.scale).toBe(2);
    expect(got.modules.map((m) => m.path)).toEqual(mods.map((m) => m.path));
    for (const m of got.modules) {
      expect(Array.from(m.A)).toEqual(Array.from(tensors.get(`base_model.model.${m.path}.lora_A.weight`)?.data ?? []));
      expect(m.magnitude?.length).toBe(m.OUT);
    }
  });

  it('an adapter without target_modules gets PEFT\'s default (q_proj, v_proj) for a llama', async () => {
    const mods = loraModules(bare).filter((m) => /(q|v)_proj$/.test(m.path));
    const files = buildAdapterFiles({ config: config(), tensors: loraTensors(mods, R) });
    const text = new TextDecoder().decode(files.get('adapter_config.json')).replace(/"target_modules": \[[^\]]*\],/, '');
    files.set('adapter_config.json', new TextEncoder().encode(text));
    const got = await readAdapterDir(folder(files), bare);
    expect(got.modules).toHaveLength(4);
  });

  it('refuses a GPT-2 path, a k_proj of the wrong width and a modules_to_save', async () => {
    const gptPath = new Map([['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', { data: new Float32Array(R * 24), shape: [R, 24] }], ['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', { data: new Float32Array(72 * R), shape: [72, R] }]]);
    await expectRefusal(() => buildAdapterFiles({ config: config({ targetModules: ['c_attn'] }), tensors: gptPath }), { code: 'EXPORT_INVALID', message: /"model\.layers\."/ });
    const k = loraModules(qwen3).filter((m) => m.path.endsWith('k_proj')).map((m) => ({ ...m, OUT: 30 }));
    const files = buildAdapterFiles({ config: config({ targetModules: ['k_proj'] }), tensors: loraTensors(k, R) });
    await expectRefusal(() => readAdapterDir(folder(files), qwen3), { code: 'ADAPTER_SHAPE', key: 'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight', message: /\[10, 3\]/ });
    const saved = buildAdapterFiles({ config: config({ modulesToSave: ['lm_head'] }), tensors: loraTensors(loraModules(qwen3).slice(0, 1), R) });
    await expectRefusal(() => readAdapterDir(folder(saved), qwen3), { code: 'ADAPTER_UNSUPPORTED', key: 'modules_to_save' });
  });
});
