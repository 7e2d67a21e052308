// A Hub model repo as a ModelDirSource: list the revision's files through the Hub's API (which also
// pins the revision to a commit), fetch only the files the loader needs (./files.ts) from
// `{base}/{repo}/resolve/{commit}/{file}` with per-file progress, check each against the listed size
// and sha256, keep them in the browser's cache (./cache.ts), and hand them to the loader. When the
// Hub cannot be reached, a revision loaded before is served from the cache alone. Each file streams
// chunk by chunk into storage while an incremental SHA-256 follows it, and the loader reads the stored
// Blobs by byte range: no file (and no model) is ever one JS buffer (issue 13 item 1).
import type { ModelDirSource } from '../hfModel/source';
import { blobWriter, sourceFromBlobs } from './blobs';
import type { FileWriter, HubCache, HubManifest, ManifestFile } from './cache';
import { HubError } from './errors';
import { type ByteSink, fetchFile } from './fetchFile';
import { Sha256 } from './sha256';
import { type HubFileInfo, WEIGHTS_INDEX, neededFiles, shardNames } from './files';
import { httpError, networkError } from './http';
import { DEFAULT_HUB_BASE } from './origins';
import { fileSegment, parseRepoRef, revisionSegment } from './repoId';

export interface HubProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** Mean download speed of this file so far (bytes/s); null for a file read from the cache. */
  bytesPerSec: number | null;
  state: 'downloading' | 'done' | 'cached';
}

export interface OpenHubOptions {
  /** "owner/name" (also "owner/name@rev" or a huggingface.co URL). */
  repo: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Access token for gated/private repos: sent to the Hub only, kept nowhere. */
  token?: string;
  /** The Hub's base URL (tests point it at a local server). */
  base?: string;
  cache?: HubCache | null;
  signal?: AbortSignal;
  onProgress?: (p: HubProgress) => void;
  /** Resume attempts per file after a dropped connection (default 3) and the first wait (ms). */
  retries?: number;
  backoffMs?: number;
  /** Progress events per file at most this often (ms), besides the last (default 100). */
  progressEveryMs?: number;
}

export interface HubRepo {
  source: ModelDirSource;
  repo: string;
  revision: string;
  commit: string;
  /** 'network' when at least one file was downloaded, 'cache' when every file came from the cache. */
  from: 'network' | 'cache';
  /** The Hub could not be reached: served from the cache alone. */
  offline: boolean;
  /** Bytes of all files. */
  bytes: number;
  /** One line each (e.g. the cache could not keep the files). */
  warnings: string[];
}

interface Listing {
  commit: string;
  files: HubFileInfo[];
}

function parseListing(where: string, json: unknown): Listing {
  const j = json as { sha?: unknown; siblings?: unknown } | null;
  if (!j || typeof j.sha !== 'string' || !/^[0-9a-f]{40}$/.test(j.sha) || !Array.isArray(j.siblings)) {
    throw new HubError('HUB_HTTP', `${where}: the Hub's file listing is not in the expected form (no commit sha or siblings)`);
  }
  const files: HubFileInfo[] = [];
  for (const s of j.siblings as { rfilename?: unknown; size?: unknown; lfs?: { sha256?: unknown; size?: unknown } | null }[]) {
    if (typeof s?.rfilename !== 'string') continue;
    const size = typeof s.lfs?.size === 'number' ? s.lfs.size : typeof s.size === 'number' ? s.size : undefined;
    const sha256 = typeof s.lfs?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.lfs.sha256) ? s.lfs.sha256 : undefined;
    files.push({ name: s.rfilename, ...(size !== undefined && Number.isSafeInteger(size) && size >= 0 ? { size } : {}), ...(sha256 ? { sha256 } : {}) });
  }
  return { commit: j.sha, files };
}

export async function openHubRepo(o: OpenHubOptions): Promise<HubRepo> {
  const ref = parseRepoRef(o.repo, o.revision);
  if ('error' in ref) throw new HubError('HUB_REPO_ID', ref.error);
  const { repo, revision } = ref;
  const base = (o.base ?? DEFAULT_HUB_BASE).replace(/\/+$/, '');
  const where = `${repo}@${revision}`;
  const hasToken = !!o.token;
  const authHeaders: Record<string, string> = o.token ? { Authorization: `Bearer ${o.token}` } : {};
  const cancelled = () => new HubError('HUB_CANCELLED', `${where}: download cancelled`);
  let cache = o.cache ?? null;
  const warnings: string[] = [];
  const every = o.progressEveryMs ?? 100;

  // 1. The listing: the commit this revision is now, and its files with sizes and sha256.
  const apiUrl = `${base}/api/models/${repo}/revision/${revisionSegment(revision)}?blobs=true`;
  let listing: Listing;
  try {
    const res = await fetch(apiUrl, { headers: authHeaders, signal: o.signal, cache: 'no-store' });
    if (!res.ok) throw await httpError(res, { repo, revision, hasToken });
    let json: unknown;
    try { json = await res.json(); } catch { throw new HubError('HUB_HTTP', `${where}: the Hub's file listing is not JSON`); }
    listing = parseListing(where, json);
  } catch (e) {
    if (o.signal?.aborted) throw cancelled();
    // No answer at all (offline, the Hub unreachable), or the Hub failing (5xx, rate limit): a revision
    // loaded before still opens from the cache. A definite answer (not found, gated, …) is final.
    const unreachable = !(e instanceof HubError);
    if (!unreachable && (e as HubError).code !== 'HUB_HTTP') throw e;
    const manifest = await cache?.readManifest(repo, revision);
    if (manifest && cache) return fromManifest(cache, manifest, base, o, e);
    if (!unreachable) throw e;
    throw new HubError('HUB_NETWORK', `${networkError(apiUrl, e).message}, and ${where} is not in this browser's cache`, { cause: e });
  }

  // 2. The files: from the cache when this commit's copy is there, else downloaded.
  const files = new Map<string, Blob>();
  const manifestFiles: ManifestFile[] = [];
  let downloaded = 0;
  const url = (name: string) => `${base}/${repo}/resolve/${listing.commit}/${fileSegment(name)}`;

  /** One download of `info` into `writer`, checked against the listed size and sha256 as it streams. */
  const download = async (info: HubFileInfo, writer: FileWriter): Promise<{ blob: Blob; etag: string | null }> => {
    const started = performance.now();
    let last = -Infinity;
    const speed = (n: number) => n / Math.max((performance.now() - started) / 1000, 1e-3);
    // Only LFS/Xet files (the weights) have a listed sha256 to check.
    const newHash = () => (info.sha256 ? new Sha256() : null);
    let hash = newHash();
    const sink: ByteSink = {
      async write(chunk) {
        hash?.update(chunk);
        await writer.write(chunk);
      },
      async restart() {
        // The server ignored Range: the file starts over, and so do the hash and the stored copy.
        hash = newHash();
        await writer.abort();
        writer = writerFor(info);
      },
    };
    let size: number;
    let etag: string | null;
    try {
      ({ size, etag } = await fetchFile(url(info.name), sink, {
        asked: { repo, revision, file: info.name, hasToken }, token: o.token, signal: o.signal, size: info.size,
        retries: o.retries, backoffMs: o.backoffMs,
        onProgress: (p) => {
          const now = performance.now();
          if (now - last < every) return;
          last = now;
          o.onProgress?.({ file: info.name, loaded: p.loaded, total: p.total, bytesPerSec: speed(p.loaded), state: 'downloading' });
        },
      }));
      if (info.size !== undefined && size !== info.size) {
        throw new HubError('HUB_CORRUPT', `${where}: ${info.name} is ${size} bytes, the Hub lists ${info.size}: the downloaded copy was deleted; try again`);
      }
      if (info.sha256 && hash?.hex() !== info.sha256) {
        throw new HubError('HUB_CORRUPT', `${where}: ${info.name} does not match the sha256 the Hub lists for it: the downloaded copy was deleted; try again`);
      }
    } catch (e) {
      // Cancelled, interrupted, corrupt or out of space: nothing of this file stays stored.
      await writer.abort();
      if (cache) await cache.deleteFile(repo, listing.commit, info.name).catch(() => {});
      throw e;
    }
    const blob = await writer.close();
    o.onProgress?.({ file: info.name, loaded: size, total: size, bytesPerSec: speed(size), state: 'done' });
    return { blob, etag };
  };
  const writerFor = (info: HubFileInfo): FileWriter => (cache ? cache.openWrite(repo, listing.commit, info.name, info.size ?? null) : blobWriter());

  const load = async (info: HubFileInfo): Promise<Blob> => {
    if (o.signal?.aborted) throw cancelled();
    const hit = await cache?.readFile(repo, listing.commit, info.name);
    if (hit && (info.size === undefined || hit.size === info.size)) {
      o.onProgress?.({ file: info.name, loaded: hit.size, total: hit.size, bytesPerSec: null, state: 'cached' });
      manifestFiles.push({ name: info.name, size: hit.size, ...(info.sha256 ? { sha256: info.sha256 } : {}) });
      return hit;
    }
    let got: { blob: Blob; etag: string | null };
    try {
      got = await download(info, writerFor(info));
    } catch (e) {
      if (!(cache && e instanceof HubError && e.code === 'HUB_QUOTA')) throw e;
      // The storage filled up mid-file: what it took is gone, so this file downloads again into a
      // Blob, uncached; nothing more is cached, and no manifest claims a complete copy.
      warnings.push(`${e.message}; the model is loaded but not cached`);
      cache = null;
      got = await download(info, blobWriter());
    }
    downloaded++;
    manifestFiles.push({ name: info.name, size: got.blob.size, etag: got.etag, ...(info.sha256 ? { sha256: info.sha256 } : {}) });
    return got.blob;
  };

  for (const info of neededFiles(where, listing.files)) files.set(info.name, await load(info));
  const index = files.get(WEIGHTS_INDEX);
  if (index) {
    const byName = new Map(listing.files.map((f) => [f.name, f]));
    for (const shard of shardNames(where, await index.text(), listing.files)) {
      files.set(shard, await load(byName.get(shard) as HubFileInfo));
    }
  }

  // 3. The manifest last: the cached copy is complete only once it is written.
  if (cache) {
    const manifest: HubManifest = { repo, revision, commit: listing.commit, files: manifestFiles, savedAt: Date.now() };
    try {
      await cache.writeManifest(manifest);
    } catch (e) {
      if (!(e instanceof HubError && e.code === 'HUB_QUOTA')) throw e;
      warnings.push(`${e.message}; the model is loaded but not cached`);
    }
  }
  const bytes = [...files.values()].reduce((s, b) => s + b.size, 0);
  return { source: sourceFromBlobs(files), repo, revision, commit: listing.commit, from: downloaded > 0 ? 'network' : 'cache', offline: false, bytes, warnings };
}

/** Every file of a cached revision, with no request: the Hub could not be reached. */
async function fromManifest(cache: HubCache, m: HubManifest, base: string, o: OpenHubOptions, cause: unknown): Promise<HubRepo> {
  const files = new Map<string, Blob>();
  for (const f of m.files) {
    const blob = await cache.readFile(m.repo, m.commit, f.name);
    if (!blob || blob.size !== f.size) {
      throw new HubError('HUB_NETWORK', `cannot reach ${new URL(base).host}, and the cached copy of ${m.repo}@${m.revision} lacks ${f.name} (the browser may have evicted it): connect and load again`, { cause });
    }
    o.onProgress?.({ file: f.name, loaded: blob.size, total: blob.size, bytesPerSec: null, state: 'cached' });
    files.set(f.name, blob);
  }
  const bytes = [...files.values()].reduce((s, b) => s + b.size, 0);
  return { source: sourceFromBlobs(files), repo: m.repo, revision: m.revision, commit: m.commit, from: 'cache', offline: true, bytes, warnings: [] };
}
