// The browser's copy of downloaded repos, so a second load needs no network. Files are keyed by repo,
// commit and file name (a commit's files never change, so a hit needs no revalidation); a manifest
// keyed by repo and the revision the user typed records which commit that revision was and which
// files it needs, with their sizes, sha256 and ETags, so "main" loads offline too. The manifest is
// written last: a load cut short leaves files but no manifest, and is never taken for complete.
// Files go in chunk by chunk as they download (a streamed Response body) and come out as Blobs that
// Cache Storage keeps on disk, read by byte range (issue 13 item 1): a model is never one JS buffer.
import { HubError, isQuota } from './errors';

export interface ManifestFile {
  name: string;
  size: number;
  sha256?: string;
  etag?: string | null;
}

export interface HubManifest {
  repo: string;
  revision: string;
  commit: string;
  files: ManifestFile[];
  /** ms since the epoch. */
  savedAt: number;
}

/** A file being stored: chunks in order, then close() (stored) or abort() (nothing stored). */
export interface FileWriter {
  /** Throws HUB_QUOTA when the browser's storage is full. */
  write(chunk: Uint8Array): Promise<void>;
  /** Completes the stored copy and returns it (disk-backed in the browser); throws HUB_QUOTA too. */
  close(): Promise<Blob>;
  /** Drops what was written; never throws. */
  abort(): Promise<void>;
}

export interface HubCache {
  readManifest(repo: string, revision: string): Promise<HubManifest | null>;
  writeManifest(m: HubManifest): Promise<void>;
  readFile(repo: string, commit: string, name: string): Promise<Blob | null>;
  /** Starts storing a file; `size` (when known) is announced as its Content-Length. */
  openWrite(repo: string, commit: string, name: string, size: number | null): FileWriter;
  deleteFile(repo: string, commit: string, name: string): Promise<void>;
}

/** The Cache Storage name: bump the suffix if the layout of keys or manifests changes. */
export const CACHE_NAME = 'lorasc-hub-v1';

// Cache Storage wants http(s) request URLs as keys. These name the Hub layout under the base; put()
// stores a Response we built, so a key is never fetched.
const fileKey = (base: string, repo: string, commit: string, name: string) => `${base}/${repo}/resolve/${commit}/${encodeURIComponent(name)}`;
const manifestKey = (base: string, repo: string, revision: string) => `${base}/api/models/${repo}/revision/${encodeURIComponent(revision)}#lorasc-manifest`;

function quotaError(what: string, bytes: number, e: unknown): HubError {
  return new HubError('HUB_QUOTA', `the browser's storage is full: ${what} (${(bytes / 1e6).toFixed(1)} MB) could not be cached; free space (site data) or it downloads again next time`, { cause: e });
}

/** Cache Storage (window and workers, secure contexts); null where there is none. */
export async function cacheStorageHubCache(base: string): Promise<HubCache | null> {
  if (typeof caches === 'undefined') return null;
  const cache = await caches.open(CACHE_NAME);
  return {
    async readManifest(repo, revision) {
      const res = await cache.match(manifestKey(base, repo, revision));
      if (!res) return null;
      try { return (await res.json()) as HubManifest; } catch { return null; }
    },
    async writeManifest(m) {
      const body = JSON.stringify(m);
      try {
        await cache.put(manifestKey(base, m.repo, m.revision), new Response(body, { headers: { 'Content-Type': 'application/json' } }));
      } catch (e) {
        throw isQuota(e) ? quotaError(`the file list of ${m.repo}`, body.length, e) : e;
      }
    },
    async readFile(repo, commit, name) {
      const res = await cache.match(fileKey(base, repo, commit, name));
      return res ? res.blob() : null;
    },
    openWrite(repo, commit, name, size) {
      const key = fileKey(base, repo, commit, name);
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'X-Repo-Commit': commit };
      if (size !== null) headers['Content-Length'] = String(size);
      // cache.put reads the body as we write it: an identity stream whose writer waits while the cache
      // is behind (backpressure), so at most a chunk or two are queued in memory.
      const pipe = new TransformStream<Uint8Array, Uint8Array>();
      const writer = pipe.writable.getWriter();
      let written = 0;
      let failed: unknown = null;
      const put = cache.put(key, new Response(pipe.readable, { headers })).catch((e: unknown) => { failed = e; });
      const storeError = (e: unknown) => (isQuota(e) ? quotaError(name, size ?? written, e) : e);
      return {
        async write(chunk) {
          if (failed !== null) throw storeError(failed);
          try {
            await writer.write(chunk);
          } catch (e) {
            await put;
            throw storeError(failed ?? e);
          }
          written += chunk.byteLength;
        },
        async close() {
          await writer.close().catch(() => {});
          await put;
          if (failed !== null) throw storeError(failed);
          const res = await cache.match(key);
          if (!res) throw new HubError('HUB_QUOTA', `the browser's cache dropped ${name} as soon as it was stored (storage pressure); free space (site data) and try again`);
          return res.blob();
        },
        async abort() {
          // An errored body makes cache.put reject: nothing of the file is stored.
          await writer.abort(new Error('aborted')).catch(() => {});
          await put;
          await cache.delete(key).catch(() => {});
        },
      };
    },
    async deleteFile(repo, commit, name) {
      await cache.delete(fileKey(base, repo, commit, name));
    },
  };
}

/**
 * In memory, with an optional byte quota (Node tests; also a stand-in where Cache Storage is absent).
 * Each chunk is copied as it is written, as a disk would take it: the downloader's own chunks are free
 * to go (the memory-bound test counts those).
 */
export function memoryHubCache(quotaBytes = Infinity): HubCache & { files: Map<string, Uint8Array>; manifests: Map<string, HubManifest> } {
  const files = new Map<string, Uint8Array>();
  const manifests = new Map<string, HubManifest>();
  let used = 0;
  return {
    files, manifests,
    async readManifest(repo, revision) { return structuredClone(manifests.get(`${repo}@${revision}`) ?? null); },
    async writeManifest(m) { manifests.set(`${m.repo}@${m.revision}`, structuredClone(m)); },
    async readFile(repo, commit, name) {
      const bytes = files.get(`${repo}/${commit}/${name}`);
      return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : null;
    },
    openWrite(repo, commit, name, size) {
      let parts: Uint8Array[] = [];
      let mine = 0;
      const release = () => { used -= mine; mine = 0; parts = []; };
      return {
        async write(chunk) {
          if (used + chunk.byteLength > quotaBytes) {
            release();
            throw quotaError(name, size ?? mine + chunk.byteLength, new DOMException('quota exceeded', 'QuotaExceededError'));
          }
          used += chunk.byteLength;
          mine += chunk.byteLength;
          parts.push(chunk.slice());
        },
        async close() {
          const bytes = new Uint8Array(mine);
          let o = 0;
          for (const p of parts) { bytes.set(p, o); o += p.byteLength; }
          parts = [];
          files.set(`${repo}/${commit}/${name}`, bytes);
          return new Blob([bytes]);
        },
        async abort() { release(); },
      };
    },
    async deleteFile(repo, commit, name) {
      const key = `${repo}/${commit}/${name}`;
      used -= files.get(key)?.byteLength ?? 0;
      files.delete(key);
    },
  };
}
