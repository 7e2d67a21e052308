// The Hub downloader (src/io/hub) against a local server with the Hub's URL layout (./server.ts): the
// API listing, resolve paths, the redirect to a second "CDN" origin, Range resumes after a dropped
// connection, 401/403/404 answers, the browser-cache stand-in, offline loads, quota and cancel. The
// bytes are the demo GPT-2 folder's, and the result goes through the real model loader.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ModelDirSource, loadModelDir } from '../../../src/io/hfModel';
import { readSafetensors } from '../../../src/io/safetensors';
import { writeSafetensors } from '../../../src/io/safetensors/writer';
import { HubError, type HubProgress, memoryHubCache, openHubRepo, parseRepoRef } from '../../../src/io/hub';
import { type FixtureRepo, type HubServer, commitOf, startHubServer } from './server';

const DEMO = resolve(import.meta.dirname, '../../../public/demo/gpt2-fortunes');
const demoFile = (n: string) => new Uint8Array(readFileSync(join(DEMO, n)));
const enc = (s: string) => new TextEncoder().encode(s);
/** Byte equality without a per-element deep compare (1.5 MB). */
const sameAsDemo = async (p: Promise<ArrayBuffer | Uint8Array>) => Buffer.from(new Uint8Array(await p)).equals(Buffer.from(demoFile('model.safetensors')));

/** The demo folder as a Hub repo, with files the loader does not need beside it. */
function demoRepo(extra: Partial<FixtureRepo> = {}): FixtureRepo {
  return {
    files: new Map([
      ['config.json', demoFile('config.json')],
      ['model.safetensors', demoFile('model.safetensors')],
      ['tokenizer.json', demoFile('tokenizer.json')],
      ['README.md', enc('# a model card\n')],
      ['pytorch_model.bin', enc('pickle bytes, never fetched')],
      ['onnx/model.onnx', enc('onnx bytes')],
      ['.gitattributes', enc('*.safetensors filter=lfs\n')],
    ]),
    ...extra,
  };
}

/** The demo weights split into two shards with an index, as save_pretrained(max_shard_size=…) writes them. */
function shardedRepo(): FixtureRepo {
  const st = readSafetensors(demoFile('model.safetensors'));
  const names = [...st.tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const parts = [names.slice(0, half), names.slice(half)];
  const shard = (i: number) => `model-0000${i + 1}-of-00002.safetensors`;
  const files = new Map<string, Uint8Array>([['config.json', demoFile('config.json')], ['tokenizer.json', demoFile('tokenizer.json')]]);
  const weightMap: Record<string, string> = {};
  parts.forEach((p, i) => {
    files.set(shard(i), writeSafetensors(p.map((n) => [n, { shape: st.get(n).shape, data: st.get(n).data }] as const)));
    for (const n of p) weightMap[n] = shard(i);
  });
  files.set('model.safetensors.index.json', enc(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap })));
  return { files };
}

/** The source with whole-file reads of weights refused: the loader must read them by range (issue 13 item 1). */
function rangedOnly(source: ModelDirSource): ModelDirSource {
  expect(source.open).toBeDefined();
  return { ...source, read: (n) => (n.endsWith('.safetensors') ? Promise.reject(new Error(`${n} read whole`)) : source.read(n)) };
}

let server: HubServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

async function hubError(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(HubError);
  return e as HubError;
}

describe('openHubRepo against a local Hub', () => {
  it('fetches only the needed files, the weights through the CDN redirect, with progress per file, and the loader reads them', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    const events: HubProgress[] = [];
    const got = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache: memoryHubCache(), onProgress: (p) => events.push(p), progressEveryMs: 0 });
    expect([...got.source.names].sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(got.commit).toBe(commitOf('lorasc/gpt2-fortunes', 'main'));
    expect(got.from).toBe('network');
    const paths = server.log.map((r) => `${r.origin} ${r.path.replace(/\?.*/, '')}`);
    expect(paths).toEqual([
      `hub /api/models/lorasc/gpt2-fortunes/revision/main`,
      `hub /lorasc/gpt2-fortunes/resolve/${got.commit}/config.json`,
      `hub /lorasc/gpt2-fortunes/resolve/${got.commit}/model.safetensors`,
      expect.stringMatching(/^cdn \/blobs\/[0-9a-f]{64}$/),
      `hub /lorasc/gpt2-fortunes/resolve/${got.commit}/tokenizer.json`,
    ]);
    // Progress: every file ends 'done' at its full size, with a speed; the weights also report partial progress.
    const size = demoFile('model.safetensors').byteLength;
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      const last = events.filter((e) => e.file === f).at(-1);
      expect(last, f).toMatchObject({ state: 'done', loaded: last?.total });
      expect(last?.bytesPerSec).toBeGreaterThan(0);
    }
    const partial = events.filter((e) => e.file === 'model.safetensors' && e.state === 'downloading');
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.every((e) => e.total === size && e.loaded <= size)).toBe(true);
    const loaded = await loadModelDir(rangedOnly(got.source));
    expect(loaded.kind).toBe('gpt2');
    expect(await sameAsDemo(got.source.read('model.safetensors'))).toBe(true);
  });

  it('loads a sharded checkpoint: the index, then each shard it names', async () => {
    server = await startHubServer({ repos: { 'lorasc/sharded': shardedRepo() } });
    const got = await openHubRepo({ repo: 'lorasc/sharded', base: server.base });
    expect([...got.source.names]).toEqual(['config.json', 'model.safetensors.index.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const loaded = await loadModelDir(rangedOnly(got.source));
    expect(loaded.kind).toBe('gpt2');
    expect(server.log.filter((r) => r.origin === 'cdn')).toHaveLength(2);
  });

  it('a second load reads the cache: only the listing is asked; with the server gone it opens offline', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    const cache = memoryHubCache();
    await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache });
    server.log.length = 0;
    const events: HubProgress[] = [];
    const again = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache, onProgress: (p) => events.push(p) });
    expect(again.from).toBe('cache');
    expect(server.log.map((r) => r.path)).toEqual(['/api/models/lorasc/gpt2-fortunes/revision/main?blobs=true']);
    expect(events.map((e) => `${e.file} ${e.state}`)).toEqual(['config.json cached', 'model.safetensors cached', 'tokenizer.json cached']);
    // The Hub answering 503: the cached copy opens; with nothing cached, the 503 is the error.
    server.apiDown = true;
    expect(await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache })).toMatchObject({ from: 'cache', offline: true });
    const down = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base }));
    expect(down.code).toBe('HUB_HTTP');
    expect(down.message).toBe('lorasc/gpt2-fortunes@main: HTTP 503 Service Unavailable: Service Unavailable');
    const base = server.base;
    await server.close();
    server = undefined;
    const offline = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base, cache });
    expect(offline).toMatchObject({ from: 'cache', offline: true, commit: commitOf('lorasc/gpt2-fortunes', 'main') });
    expect((await loadModelDir(offline.source)).kind).toBe('gpt2');
    // Another revision was never loaded: offline, that is a clear network error.
    const e = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', revision: 'v2', base, cache }));
    expect(e.code).toBe('HUB_NETWORK');
    expect(e.message).toMatch(/^cannot reach 127\.0\.0\.1:\d+: .*lorasc\/gpt2-fortunes@v2 is not in this browser's cache$/);
  });

  it('a new commit on the branch is downloaded again, keyed by its commit', async () => {
    const repo = demoRepo();
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': repo } });
    const cache = memoryHubCache();
    const first = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache });
    const base = server.base;
    await server.close();
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': { ...repo, refs: { main: 'a'.repeat(40) } } } });
    const second = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache });
    expect(base).not.toBe(server.base);
    expect(second.commit).toBe('a'.repeat(40));
    expect(second.commit).not.toBe(first.commit);
    expect(second.from).toBe('network');
  });

  it('resumes a dropped download with Range from the byte it reached', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    const size = demoFile('model.safetensors').byteLength;
    server.dropNext('model.safetensors', 500_000);
    const got = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, backoffMs: 1 });
    expect(await sameAsDemo(got.source.read('model.safetensors'))).toBe(true);
    const cdn = server.log.filter((r) => r.origin === 'cdn');
    expect(cdn.map((r) => r.range)).toEqual([null, expect.stringMatching(/^bytes=\d+-$/)]);
    const from = Number(/\d+/.exec(cdn[1].range as string)?.[0]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(500_000);
    // The resume asked the resolve URL again (a fresh signed redirect), not the old CDN URL alone.
    expect(server.log.filter((r) => r.path.includes('/resolve/') && r.path.endsWith('model.safetensors')).map((r) => r.range)).toEqual([null, cdn[1].range]);
    expect(size).toBeGreaterThan(500_000);
  });

  it('starts the file over when the server ignores Range, and never splices', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    server.ignoreRange = true;
    server.dropNext('model.safetensors', 300_000);
    const got = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, backoffMs: 1 });
    expect(await sameAsDemo(got.source.read('model.safetensors'))).toBe(true);
    expect(server.log.filter((r) => r.origin === 'cdn')).toHaveLength(2);
  });

  it('gives up after the retries with one line naming the file and the byte it reached', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    server.dropNext('model.safetensors', 200_000, 10);
    const e = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, retries: 2, backoffMs: 1 }));
    expect(e.code).toBe('HUB_INTERRUPTED');
    expect(e.message).toMatch(/^lorasc\/gpt2-fortunes@main: model\.safetensors: the download stopped at byte \d+ of 1492560 \(connection dropped 3 times, resumed each time\)/);
    expect(e.message).not.toMatch(/\n/);
  });

  for (const hideErrorCode of [false, true]) it(`names a missing repo, a missing revision and a file the listing named but the server lacks${hideErrorCode ? ' (from the body alone, no X-Error-Code)' : ''}`, async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo({ vanished: ['tokenizer.json'] }) } });
    server.hideErrorCode = hideErrorCode;
    let e = await hubError(openHubRepo({ repo: 'nobody/nothing', base: server.base }));
    expect(e.code).toBe('HUB_NOT_FOUND');
    expect(e.message).toBe('nobody/nothing: no such model repo on the Hub, or it is private (HTTP 401): check the id, or give an access token');
    e = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', revision: 'v9', base: server.base }));
    expect(e.code).toBe('HUB_REVISION');
    expect(e.message).toBe('lorasc/gpt2-fortunes has no branch, tag or commit "v9"');
    e = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base }));
    expect(e.code).toBe('HUB_FILE_MISSING');
    expect(e.message).toBe('lorasc/gpt2-fortunes@main: tokenizer.json is not in the repo (HTTP 404)');
  });

  it('refuses a repo without config.json or without safetensors weights, and an index naming a missing shard', async () => {
    const noConfig = demoRepo();
    noConfig.files.delete('config.json');
    const pickleOnly = demoRepo();
    pickleOnly.files.delete('model.safetensors');
    const badIndex = shardedRepo();
    badIndex.files.delete('model-00002-of-00002.safetensors');
    server = await startHubServer({ repos: { 'a/no-config': noConfig, 'a/pickle': pickleOnly, 'a/bad-index': badIndex } });
    expect((await hubError(openHubRepo({ repo: 'a/no-config', base: server.base }))).message).toBe('a/no-config@main has no config.json at its top level: not a transformers model repo (or the model sits in a subfolder)');
    const p = await hubError(openHubRepo({ repo: 'a/pickle', base: server.base }));
    expect(p.code).toBe('HUB_FILE_MISSING');
    expect(p.message).toMatch(/has no safetensors weights, only pytorch_model\.bin: pickle files are never loaded/);
    const s = await hubError(openHubRepo({ repo: 'a/bad-index', base: server.base }));
    expect(s.message).toBe('a/bad-index@main: shard model-00002-of-00002.safetensors named by model.safetensors.index.json is not in the repo');
    // Nothing of the pickle or the model card was ever asked for.
    expect(server.log.some((r) => /pytorch_model|README|onnx/.test(r.path))).toBe(false);
  });

  for (const hideErrorCode of [false, true]) it(`gated: 401 without a token, 403 with one not granted, loads with a granted one that never reaches the CDN${hideErrorCode ? ' (no X-Error-Code)' : ''}`, async () => {
    server = await startHubServer({ repos: { 'meta/gated': demoRepo({ gatedTokens: ['hf_granted'] }), 'me/private': demoRepo({ privateTokens: ['hf_mine'] }) } });
    server.hideErrorCode = hideErrorCode;
    let e = await hubError(openHubRepo({ repo: 'meta/gated', base: server.base }));
    expect(e.code).toBe('HUB_GATED');
    expect(e.message).toBe('meta/gated is gated: accept its conditions on https://huggingface.co/meta/gated and give an access token (read scope) in the token field');
    e = await hubError(openHubRepo({ repo: 'meta/gated', base: server.base, token: 'hf_other' }));
    expect(e.code).toBe('HUB_GATED');
    expect(e.message).toMatch(/^meta\/gated is gated and this access token has no access yet/);
    server.log.length = 0;
    const got = await openHubRepo({ repo: 'meta/gated', base: server.base, token: 'hf_granted' });
    expect((await loadModelDir(got.source)).kind).toBe('gpt2');
    expect(server.log.filter((r) => r.origin === 'hub').every((r) => r.authorization === 'Bearer hf_granted')).toBe(true);
    expect(server.log.filter((r) => r.origin === 'cdn').map((r) => r.authorization)).toEqual([null]);
    // A private repo looks missing without its token, and opens with it.
    expect((await hubError(openHubRepo({ repo: 'me/private', base: server.base }))).code).toBe('HUB_NOT_FOUND');
    expect((await openHubRepo({ repo: 'me/private', base: server.base, token: 'hf_mine' })).source.names).toContain('model.safetensors');
  });

  it('refuses bytes that differ from the listed sha256', async () => {
    server = await startHubServer({ repos: { 'a/corrupt': demoRepo({ badSha: ['model.safetensors'] }) } });
    const cache = memoryHubCache();
    const e = await hubError(openHubRepo({ repo: 'a/corrupt', base: server.base, cache }));
    expect(e.code).toBe('HUB_CORRUPT');
    expect(e.message).toBe('a/corrupt@main: model.safetensors does not match the sha256 the Hub lists for it: the downloaded copy was deleted; try again');
    expect(cache.manifests.size).toBe(0);
    // The streamed copy is gone from storage, not just left out of the manifest.
    expect([...cache.files.keys()].filter((k) => k.endsWith('/model.safetensors'))).toEqual([]);
  });

  it('a full cache: the model still loads, with one warning, and no manifest claims a copy', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    const cache = memoryHubCache(100_000); // config fits, the weights do not
    const got = await openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: server.base, cache });
    expect((await loadModelDir(got.source)).kind).toBe('gpt2');
    expect(got.warnings).toEqual([expect.stringMatching(/^the browser's storage is full: model\.safetensors \(1\.5 MB\) could not be cached; .*; the model is loaded but not cached$/)]);
    expect(cache.manifests.size).toBe(0);
    const base = server.base;
    await server.close();
    server = undefined;
    expect((await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', base, cache }))).code).toBe('HUB_NETWORK');
  });

  it('cancels mid-file with one line, and caches nothing as complete', async () => {
    server = await startHubServer({ repos: { 'lorasc/gpt2-fortunes': demoRepo() } });
    const ac = new AbortController();
    const cache = memoryHubCache();
    const e = await hubError(openHubRepo({
      repo: 'lorasc/gpt2-fortunes', base: server.base, cache, signal: ac.signal, progressEveryMs: 0,
      onProgress: (p) => { if (p.file === 'model.safetensors' && p.state === 'downloading') ac.abort(); },
    }));
    expect(e.code).toBe('HUB_CANCELLED');
    expect(e.message).toBe('lorasc/gpt2-fortunes@main: model.safetensors: download cancelled');
    expect(cache.manifests.size).toBe(0);
  });

  it('says the network is down when nothing answers and nothing is cached', async () => {
    const e = await hubError(openHubRepo({ repo: 'lorasc/gpt2-fortunes', base: 'http://127.0.0.1:9' }));
    expect(e.code).toBe('HUB_NETWORK');
    expect(e.message).toMatch(/^cannot reach 127\.0\.0\.1:9: the network is down or the address is blocked \(.*\), and lorasc\/gpt2-fortunes@main is not in this browser's cache$/);
  });
});

describe('parseRepoRef', () => {
  it('takes ids, @revisions and Hub URLs; refuses anything else with one line', () => {
    expect(parseRepoRef('HuggingFaceTB/SmolLM2-135M')).toEqual({ repo: 'HuggingFaceTB/SmolLM2-135M', revision: 'main' });
    expect(parseRepoRef(' Qwen/Qwen3-0.6B@refs/pr/1 ')).toEqual({ repo: 'Qwen/Qwen3-0.6B', revision: 'refs/pr/1' });
    expect(parseRepoRef('https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0/tree/v1.0')).toEqual({ repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', revision: 'v1.0' });
    expect(parseRepoRef('a/b', 'dev')).toEqual({ repo: 'a/b', revision: 'dev' });
    for (const bad of ['gpt2', 'a/b/c', '../etc/passwd', 'a/..', 'a/b c', 'https://evil.example/a/b', '-a/b', 'a--b/c']) {
      expect(parseRepoRef(bad), bad).toEqual({ error: expect.stringMatching(/is not a Hub model id: expected owner\/name/) });
    }
    expect(parseRepoRef('a/b', 'x..y')).toEqual({ error: '"x..y" is not a branch, tag or commit of a Hub repo' });
  });
});
