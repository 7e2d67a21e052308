// The browser's copy of downloaded repos, so a second load needs no network. Files are keyed by repo,
// commit and file name (a commit's files never change, so a hit needs no revalidation); a manifest
// keyed by repo and the revision the user typed records which commit that revision was and which
// files it needs, with their sizes, sha256 and ETags, so "main" loads offline too. The manifest is
// written last: a load cut short leaves files but no manifest, and is never taken for complete.
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

export interface HubCache {
  readManifest(repo: string, revision: string): Promise<HubManifest | null>;
  writeManifest(m: HubManifest): Promise<void>;
  readFile(repo: string, commit: string, name: string): Promise<Uint8Array | null>;
  /** Throws HUB_QUOTA when the browser's storage is full. */
  writeFile(repo: string, commit: string, name: string, bytes: Uint8Array, etag: string | null): Promise<void>;
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
      return res ? new Uint8Array(await res.arrayBuffer()) : null;
    },
    async writeFile(repo, commit, name, bytes, etag) {
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.byteLength), 'X-Repo-Commit': commit };
      if (etag) headers.ETag = etag;
      try {
        await cache.put(fileKey(base, repo, commit, name), new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
      } catch (e) {
        throw isQuota(e) ? quotaError(name, bytes.byteLength, e) : e;
      }
    },
  };
}

/** In memory, with an optional byte quota (Node tests; also a stand-in where Cache Storage is absent). */
export function memoryHubCache(quotaBytes = Infinity): HubCache & { files: Map<string, Uint8Array>; manifests: Map<string, HubManifest> } {
  const files = new Map<string, Uint8Array>();
  const manifests = new Map<string, HubManifest>();
  let used = 0;
  return {
    files, manifests,
    async readManifest(repo, revision) { return structuredClone(manifests.get(`${repo}@${revision}`) ?? null); },
    async writeManifest(m) { manifests.set(`${m.repo}@${m.revision}`, structuredClone(m)); },
    async readFile(repo, commit, name) { return files.get(`${repo}/${commit}/${name}`)?.slice() ?? null; },
    async writeFile(repo, commit, name, bytes) {
      if (used + bytes.byteLength > quotaBytes) throw quotaError(name, bytes.byteLength, new DOMException('quota exceeded', 'QuotaExceededError'));
      used += bytes.byteLength;
      files.set(`${repo}/${commit}/${name}`, bytes.slice());
    },
  };
}
