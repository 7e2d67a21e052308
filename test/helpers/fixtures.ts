// The PyTorch golden fixtures (test/fixtures/), fetched from the test server in browser-mode tests
// and checked for staleness: one loader for every model test.
import { type LoadedGpt2, type LoadedVit, loadModelDir, sourceFromMap } from '../../src/io/hfModel';
import { type SafetensorsFile, readSafetensors } from '../../src/io/safetensors';

export const REGEN = '/usr/bin/python3 test/fixtures/gen_fixtures.py';

async function fetchBytes(path: string): Promise<Uint8Array> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`fetch ${path}: HTTP ${res.status}; regenerate with: ${REGEN}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A metadata string of a fixture state file; a missing key means the fixture is stale. */
export function fixtureMeta(state: SafetensorsFile, key: string): string {
  const v = state.metadata?.get(key);
  if (v === undefined) throw new Error(`fixture metadata has no ${key}; regenerate with: ${REGEN}`);
  return v;
}

interface Loaded { gpt2: LoadedGpt2; vit: LoadedVit }

export interface Fixture<K extends keyof Loaded> {
  loaded: Loaded[K];
  state: SafetensorsFile;
  /** A metadata string of the state file; a missing key means the fixture is stale. */
  meta(key: string): string;
  /** The initial LoRA tensors (PEFT names) stored in the state file. */
  lora(): Map<string, Float32Array>;
}

/** Loads test/fixtures/<name>/ and <name>_state.safetensors; refuses a stale or foreign fixture. */
export async function loadFixture<K extends keyof Loaded>(name: 'gpt2_tiny' | 'vit_tiny', kind: K): Promise<Fixture<K>> {
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors']) files.set(f, await fetchBytes(`/test/fixtures/${name}/${f}`));
  const loaded = await loadModelDir(sourceFromMap(files));
  if (loaded.kind !== kind) throw new Error(`fixture ${name} is a ${loaded.kind} model, expected ${kind}`);
  const state = readSafetensors(await fetchBytes(`/test/fixtures/${name}_state.safetensors`), `${name}_state.safetensors`);
  const m = state.metadata;
  if (m?.get('magic') !== 'lorasc-fixture' || m.get('version') !== '1') {
    throw new Error(`${name}_state.safetensors is stale or foreign (magic ${m?.get('magic')}, version ${m?.get('version')}); regenerate with: ${REGEN}`);
  }
  return {
    loaded: loaded as Loaded[K],
    state,
    meta: (key) => fixtureMeta(state, key),
    lora: () => new Map([...state.tensors].filter(([k]) => k.startsWith('base_model.')).map(([k, t]) => [k, t.data])),
  };
}
