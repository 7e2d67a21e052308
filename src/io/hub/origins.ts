// Where the Hub lives, for the downloader and for the page's CSP (src/pagePolicy.ts): one list, so the
// policy names exactly the origins the download code can reach, and nothing else.
//
// A file is asked of `{base}/{repo}/resolve/{commit}/{file}`. Small (non-LFS) files come back from
// huggingface.co itself (directly, or by a same-origin redirect). Weights live in LFS/Xet storage: the
// resolve URL redirects (302) to a signed URL on a storage CDN, and CSP applies to redirect targets, so
// each CDN origin must be named. As observed in 2025-2026 (docs/model-sources.md cites the evidence):
// Xet-backed files redirect to the regional `us.aws.cdn.hf.co` / `eu.aws.cdn.hf.co` (earlier
// `cas-bridge.xethub.hf.co`); files still in classic LFS storage redirect to `cdn-lfs*.hf.co`.
// No wildcard: a new CDN host is one line here and shows up as a clear "network blocked" error.

/** The Hub's API and resolve base (also where the repo pages are). */
export const DEFAULT_HUB_BASE = 'https://huggingface.co';

/** Every origin a download from DEFAULT_HUB_BASE may touch (the base first). */
export const HUB_ORIGINS: readonly string[] = [
  DEFAULT_HUB_BASE,
  'https://us.aws.cdn.hf.co',
  'https://eu.aws.cdn.hf.co',
  'https://cas-bridge.xethub.hf.co',
  'https://cdn-lfs.hf.co',
  'https://cdn-lfs-us-1.hf.co',
  'https://cdn-lfs-eu-1.hf.co',
];

/**
 * The origins a test build talks to instead (build-time/test-only): `VITE_HUB_BASE` replaces the base
 * and `VITE_HUB_CONNECT` (space-separated origins) the CDN list. Unset, the production list holds. The
 * same function feeds the page's CSP and the worker's downloader, so the two cannot disagree.
 */
export function hubOrigins(env: { VITE_HUB_BASE?: string; VITE_HUB_CONNECT?: string }): { base: string; origins: string[] } {
  const base = env.VITE_HUB_BASE?.trim();
  if (!base) return { base: DEFAULT_HUB_BASE, origins: [...HUB_ORIGINS] };
  const extra = (env.VITE_HUB_CONNECT ?? '').split(/\s+/).filter(Boolean);
  const origins = [base, ...extra].map((u) => {
    const o = new URL(u).origin;
    if (o === 'null' || !/^https?:$/.test(new URL(u).protocol)) throw new Error(`VITE_HUB_BASE/VITE_HUB_CONNECT: ${JSON.stringify(u)} is not an http(s) origin`);
    return o;
  });
  return { base: base.replace(/\/+$/, ''), origins: [...new Set(origins)] };
}
