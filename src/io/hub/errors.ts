// Typed refusals of a Hub download: one line each, naming the repo, revision or file, what happened,
// and what to do. The studio shows `message` as is; `code` is for tests and the docs table
// (docs/model-sources.md#errors).

export type HubErrorCode =
  | 'HUB_REPO_ID' // not an "owner/name" repo id, or a bad revision
  | 'HUB_NOT_FOUND' // no such repo (or private and no/invalid token)
  | 'HUB_REVISION' // repo exists, revision does not
  | 'HUB_GATED' // gated or private: needs an accepted licence and a token
  | 'HUB_FILE_MISSING' // a needed file is not in the repo (config.json, weights, a shard)
  | 'HUB_NETWORK' // the Hub cannot be reached and nothing is cached
  | 'HUB_HTTP' // any other HTTP answer
  | 'HUB_INTERRUPTED' // the connection dropped and resuming did not finish the file
  | 'HUB_CORRUPT' // size or sha256 differs from the Hub's listing
  | 'HUB_QUOTA' // the browser's storage is full (the cache could not keep the files)
  | 'HUB_CANCELLED'; // the user cancelled

export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(readonly code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isAbort(e: unknown): boolean {
  return (e instanceof DOMException || e instanceof Error) && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

export function isQuota(e: unknown): boolean {
  return (e instanceof DOMException || e instanceof Error) && (e.name === 'QuotaExceededError' || /quota/i.test(e.message));
}
