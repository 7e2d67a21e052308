// A Hub repo id and revision as the user types them. The Hub's own rule for names: letters, digits,
// '-', '_', '.', at most 96 characters, no '--' or '..', not starting or ending with '-' or '.'. We
// check the shape before any request, so a typo gets a local one-line answer, not a 404 from afar.

export interface RepoRef {
  /** "owner/name" */
  repo: string;
  /** Branch, tag or commit sha; "main" when not given. */
  revision: string;
}

const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

/**
 * Parses "owner/name", "owner/name@rev" or a pasted https://huggingface.co/owner/name[/tree/rev] URL.
 * Returns an error line instead of throwing, for the form.
 */
export function parseRepoRef(input: string, revision?: string): RepoRef | { error: string } {
  let s = input.trim();
  let rev = revision?.trim() || '';
  const url = /^https?:\/\/(?:huggingface\.co|hf\.co)\/([^/?#]+\/[^/?#]+)(?:\/(?:tree|blob|resolve)\/([^/?#]+))?\/?$/.exec(s);
  if (url) { s = url[1]; rev ||= decodeURIComponent(url[2] ?? ''); }
  const at = s.indexOf('@');
  if (at >= 0) { rev ||= s.slice(at + 1); s = s.slice(0, at); }
  const parts = s.split('/');
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !p.includes('--') && !p.includes('..'))) {
    return { error: `${JSON.stringify(input.trim())} is not a Hub model id: expected owner/name, e.g. HuggingFaceTB/SmolLM2-135M` };
  }
  rev ||= 'main';
  // Branch and tag names are git refs: no spaces, no '..', no control characters; '/' is allowed.
  if (rev.length > 255 || /[\s~^:?*[\\\u0000-\u001f\u007f]|\.\.|^\/|\/$|@\{/.test(rev)) {
    return { error: `${JSON.stringify(rev)} is not a branch, tag or commit of a Hub repo` };
  }
  return { repo: s, revision: rev };
}

/** The revision as one URL path segment ("refs/pr/1" → "refs%2Fpr%2F1"), as the Hub's API expects. */
export function revisionSegment(rev: string): string {
  return encodeURIComponent(rev);
}

/** A top-level file name as a URL path segment. */
export function fileSegment(name: string): string {
  return encodeURIComponent(name);
}
