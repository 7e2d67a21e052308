// Sharded checkpoints through model.safetensors.index.json (docs/formats.md#safetensors-sharded, docs/failure-scenarios.md#a7).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type F32Tensor, loadShardedSafetensors, parseShardIndex, type ReadFile, shardFileName, writeSafetensors,
} from '../../../src/io/safetensors';
import { expectStError, expectStRejects } from './build';

const t = (values: number[]): F32Tensor => ({ shape: [values.length], data: Float32Array.from(values) });
const S1 = shardFileName(1, 2);
const S2 = shardFileName(2, 2);

/** Two shards and an index; `edit` may change the files before they are served. */
function shardSet(edit: (files: Map<string, Uint8Array | string>) => void = () => {}) {
  const files = new Map<string, Uint8Array | string>();
  files.set(S1, writeSafetensors([['wte.weight', t([1, 2, 3])], ['h.0.w', t([4])]]));
  files.set(S2, writeSafetensors([['h.1.w', t([5, 6])]]));
  const weightMap = { 'wte.weight': S1, 'h.0.w': S1, 'h.1.w': S2 };
  files.set('model.safetensors.index.json', JSON.stringify({ metadata: { total_size: 24 }, weight_map: weightMap }));
  edit(files);
  const reads: string[] = [];
  const read: ReadFile = async (name) => {
    reads.push(name);
    const f = files.get(name);
    if (f === undefined) throw new Error(`ENOENT: ${name}`);
    return typeof f === 'string' ? new TextEncoder().encode(f) : f;
  };
  return { read, reads };
}

const index = (weightMap: Record<string, string>, extra = '') => `{"weight_map":${JSON.stringify(weightMap)}${extra}}`;

describe('sharded loading', () => {
  it('shard names follow transformers (five digits, 1-based)', () => {
    expect(shardFileName(1, 2)).toBe('model-00001-of-00002.safetensors');
    expect(shardFileName(12, 345)).toBe('model-00012-of-00345.safetensors');
  });

  it('loads every weight_map tensor from its shard, reading each shard once', async () => {
    const { read, reads } = shardSet();
    const set = await loadShardedSafetensors(read);
    expect([...set.tensors.keys()]).toEqual(['wte.weight', 'h.0.w', 'h.1.w']);
    expect(Array.from(set.tensors.get('h.1.w')?.data ?? [])).toEqual([5, 6]);
    expect(set.index.shards).toEqual([S1, S2]);
    expect(set.index.totalSize).toBe(24);
    expect(set.warnings).toEqual([]);
    expect(reads).toEqual(['model.safetensors.index.json', S1, S2]);
  });

  it('works with Node fs (readFile returns a pooled Buffer)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'st-shards-'));
    try {
      const { read } = shardSet();
      for (const name of ['model.safetensors.index.json', S1, S2]) await writeFile(join(dir, name), new Uint8Array(await read(name)));
      const set = await loadShardedSafetensors((name) => readFile(join(dir, name)));
      expect(Array.from(set.tensors.get('wte.weight')?.data ?? [])).toEqual([1, 2, 3]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('a missing shard is MODEL_SHARD naming the shard file', async () => {
    const { read } = shardSet((f) => f.delete(S2));
    const err = await expectStRejects(loadShardedSafetensors(read), 'MODEL_SHARD');
    expect(err.file).toBe(S2);
    expect(err.message).toContain(S2);
  });

  it('a tensor the index puts in the wrong shard is MODEL_SHARD naming tensor and shard', async () => {
    const { read } = shardSet((f) => f.set('model.safetensors.index.json', index({ 'wte.weight': S1, 'h.0.w': S2, 'h.1.w': S2 })));
    const err = await expectStRejects(loadShardedSafetensors(read), 'MODEL_SHARD');
    expect(err.tensor).toBe('h.0.w');
    expect(err.message).toMatch(/maps this tensor to "model-00002-of-00002.safetensors", but it is in "model-00001/);
  });

  it('a tensor in no shard is MODEL_SHARD', async () => {
    const { read } = shardSet((f) => f.set('model.safetensors.index.json', index({ 'wte.weight': S1, 'h.0.w': S1, 'h.1.w': S2, ghost: S2 })));
    const err = await expectStRejects(loadShardedSafetensors(read), 'MODEL_SHARD');
    expect(err.tensor).toBe('ghost');
  });

  it('one tensor in two shards is MODEL_SHARD', async () => {
    const { read } = shardSet((f) => f.set(S2, writeSafetensors([['h.1.w', t([5, 6])], ['h.0.w', t([4])]])));
    const err = await expectStRejects(loadShardedSafetensors(read), 'MODEL_SHARD');
    expect(err.tensor).toBe('h.0.w');
    expect(err.message).toContain('also in shard');
  });

  it('a corrupt shard fails with its own ST_ code and file name', async () => {
    const { read } = shardSet((f) => {
      const whole = f.get(S2) as Uint8Array;
      f.set(S2, whole.subarray(0, whole.length - 4)); // half of the data buffer missing
    });
    const err = await expectStRejects(loadShardedSafetensors(read), 'ST_COVERAGE');
    expect(err.file).toBe(S2);
  });

  it('unindexed tensors and a wrong total_size are warnings, not errors', async () => {
    const { read } = shardSet((f) => f.set('model.safetensors.index.json', index({ 'wte.weight': S1, 'h.1.w': S2 }, ',"metadata":{"total_size":999}')));
    const set = await loadShardedSafetensors(read);
    expect(set.tensors.has('h.0.w')).toBe(false);
    expect(set.warnings.map((w) => [w.code, w.tensor])).toEqual([['ST_W_UNINDEXED_TENSOR', 'h.0.w'], ['ST_W_TOTAL_SIZE', undefined]]);
  });

  it('a custom index name', async () => {
    const { read } = shardSet((f) => f.set('adapter.index.json', f.get('model.safetensors.index.json') as string));
    expect((await loadShardedSafetensors(read, { indexName: 'adapter.index.json' })).tensors.size).toBe(3);
  });

  it('a missing index is MODEL_SHARD naming the index', async () => {
    const err = await expectStRejects(loadShardedSafetensors(async () => Promise.reject(new Error('no'))), 'MODEL_SHARD');
    expect(err.file).toBe('model.safetensors.index.json');
  });
});

describe('index validation', () => {
  it.each([
    ['not JSON', '{"weight_map":', undefined],
    ['a duplicate tensor key', '{"weight_map":{"a":"s.safetensors","a":"t.safetensors"}}', undefined],
    ['no weight_map', '{"metadata":{}}', undefined],
    ['a top-level array', '[]', undefined],
    ['a bare number ending the text', '12', undefined],
    ['a truncated fraction', '{"weight_map":{},"metadata":{"total_size":1.', undefined],
    ['a non-string shard', '{"weight_map":{"a":1}}', 'a'],
    ['a path in a shard name', '{"weight_map":{"a":"../secret.safetensors"}}', 'a'],
    ['a Windows path', '{"weight_map":{"a":"C:\\\\x.safetensors"}}', 'a'],
    ['an empty shard name', '{"weight_map":{"a":""}}', 'a'],
  ])('%s → MODEL_SHARD', (_what, text, tensor) => {
    const err = expectStError(() => parseShardIndex(text), 'MODEL_SHARD');
    expect(err.file).toBe('model.safetensors.index.json');
    expect(err.tensor).toBe(tensor);
  });

  it('a missing or malformed total_size is ignored (advisory)', () => {
    expect(parseShardIndex('{"weight_map":{}}').totalSize).toBeNull();
    expect(parseShardIndex('{"metadata":{"total_size":"12"},"weight_map":{}}').totalSize).toBeNull();
    expect(parseShardIndex('{"metadata":{"total_size":1.5e3},"weight_map":{}}').totalSize).toBeNull();
    expect(parseShardIndex('{"metadata":{"total_size":1500},"weight_map":{"__proto__":"a.safetensors"}}').weightMap.get('__proto__')).toBe('a.safetensors');
  });
});
