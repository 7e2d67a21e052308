// The run pipeline (src/train/run.ts) on the tiny ViT: an image folder with another class count than the
// checkpoint's head gives a run on the model loaded again with a new head, the folder's classes, the
// config's targets and a ViT engine; trainRun trains it; data of the wrong kind is refused in one line.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../../src/gpu/context';
import { type LoadedVit, loadModelDir, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import { fromVocabMerges } from '../../../src/io/tokenizer';
import { prepareRun, trainRun } from '../../../src/train/run';
import type { TrainEvent } from '../../../src/train/trainer';
import { testContext } from '../../helpers/gpu';
import { mulberry32 } from '../../helpers/random';

let ctx: GpuContext;
let source: ModelDirSource;
let vit: LoadedVit;

beforeAll(async () => {
  ctx = await testContext();
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors']) files.set(f, new Uint8Array(await (await fetch(`/test/fixtures/vit_tiny/${f}`)).arrayBuffer()));
  source = sourceFromMap(files);
  const loaded = await loadModelDir(source);
  if (loaded.kind !== 'vit') throw new Error('vit_tiny is not a ViT');
  vit = loaded;
});

/** 3 classes × 4 images, each class a flat colour plus noise, 8×8 RGBA as a canvas would decode them. */
const CLASSES = ['cat', 'dog', 'eel'];
const paths = CLASSES.flatMap((c) => [0, 1, 2, 3].map((i) => `pets/${c}/${i}.png`));
function decode(path: string) {
  const k = CLASSES.indexOf(path.split('/')[1]);
  const rnd = mulberry32(path.length * 31 + k);
  const data = new Uint8ClampedArray(8 * 8 * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : 60 * (k + 1) + Math.floor(20 * rnd());
  return Promise.resolve({ data, width: 8, height: 8 });
}

describe('prepareRun + trainRun', () => {
  it('an image folder with 3 classes on a 5-class checkpoint: a new 3-class head, the folder\'s classes, a trained run', async () => {
    expect(vit.head.numClasses).toBe(5);
    const run = await prepareRun(ctx, { loaded: vit, source }, { kind: 'images', paths, decode },
      { partial: { method: 'lora', targetModules: ['query', 'value'], r: 2, batchSize: 4, maxSteps: 2, valFraction: 0.25, lr: 1e-2 } });
    try {
      expect(run.kind).toBe('image');
      if (run.kind !== 'image') return;
      expect(run.loaded).not.toBe(vit);
      expect(run.loaded.head).toMatchObject({ numClasses: 3, newHead: true });
      expect(run.classNames).toEqual(CLASSES);
      expect(run.data.train.length + run.data.val.length).toBe(12);
      expect(new Set(run.targets.map((m) => m.path.split('.').pop()))).toEqual(new Set(['query', 'value']));
      expect(run.targets.length).toBe(2 * vit.config.num_hidden_layers);
      const head = run.engine.trainableEntries().find((e) => e.name === 'classifier.weight');
      expect(head?.shape).toEqual([3, vit.config.hidden_size]);
      expect(run.sample.length).toBe(Math.min(4, run.data.val.length) * 3 * 8 * 8);
      const events: TrainEvent['type'][] = [];
      const result = await trainRun(run, { onEvent: (e) => events.push(e.type) });
      expect(result.steps).toBe(2);
      expect(events[0]).toBe('start');
      expect(events.filter((t) => t === 'step').length).toBe(2);
      expect(result.head.get('classifier.bias')?.length).toBe(3);
    } finally {
      run.engine.destroy();
    }
  });

  it('refuses data of the other family in one line, before building an engine', async () => {
    await expect(prepareRun(ctx, { loaded: vit, source }, { kind: 'text', bytes: new Uint8Array(4), name: 'a.txt', tokenizer: fromVocabMerges('{"a": 0}', '#version: 0.2\n') }, { partial: {} }))
      .rejects.toThrow(/^a ViT trains on images/);
  });
});
