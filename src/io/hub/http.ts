// The Hub's HTTP answers as one-line errors. The Hub says why in an `X-Error-Code` header (RepoNotFound,
// RevisionNotFound, EntryNotFound, GatedRepo) and a JSON `{"error": …}` body; a browser may not see the
// header (CORS exposes only listed headers), so the status and the body text decide when it is absent.
// Note the Hub answers 401, not 404, for a repo it will not admit exists to an anonymous caller: a
// missing repo and a private one look the same without a token.
import { HubError } from './errors';

export interface Asked {
  repo: string;
  revision: string;
  /** The file asked for; absent for the API listing. */
  file?: string;
  hasToken: boolean;
}

async function bodyText(res: Response): Promise<string> {
  try {
    const t = (await res.text()).slice(0, 2000);
    try {
      const j = JSON.parse(t) as { error?: unknown };
      if (typeof j.error === 'string') return j.error;
    } catch { /* not JSON */ }
    return t.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  } catch {
    return '';
  }
}

export async function httpError(res: Response, a: Asked): Promise<HubError> {
  const code = res.headers.get('x-error-code') ?? '';
  const said = await bodyText(res);
  const where = a.file ? `${a.repo}@${a.revision}: ${a.file}` : `${a.repo}@${a.revision}`;
  const page = `https://huggingface.co/${a.repo}`;
  if (code === 'GatedRepo' || /gated|restricted|must have access|accept the conditions/i.test(said)) {
    return new HubError('HUB_GATED', a.hasToken
      ? `${a.repo} is gated and this access token has no access yet: accept its conditions on ${page}, then try again`
      : `${a.repo} is gated: accept its conditions on ${page} and give an access token (read scope) in the token field`);
  }
  if (code === 'RevisionNotFound' || (res.status === 404 && /revision|rev id/i.test(said))) {
    return new HubError('HUB_REVISION', `${a.repo} has no branch, tag or commit ${JSON.stringify(a.revision)}`);
  }
  if (code === 'EntryNotFound' || (res.status === 404 && a.file)) {
    return new HubError('HUB_FILE_MISSING', `${where} is not in the repo (HTTP 404)`);
  }
  if (code === 'RepoNotFound' || res.status === 404 || (res.status === 401 && !a.hasToken)) {
    return new HubError('HUB_NOT_FOUND', a.hasToken
      ? `${a.repo}: no such model repo on the Hub, or this token cannot see it (HTTP ${res.status})`
      : `${a.repo}: no such model repo on the Hub, or it is private (HTTP ${res.status}): check the id, or give an access token`);
  }
  if (res.status === 401) return new HubError('HUB_GATED', `${a.repo}: the access token was refused (HTTP 401): check it on https://huggingface.co/settings/tokens`);
  if (res.status === 403) return new HubError('HUB_GATED', `${where}: access denied (HTTP 403)${said ? `: ${said}` : ''}`);
  if (res.status === 429) return new HubError('HUB_HTTP', `${where}: the Hub is rate-limiting this address (HTTP 429): wait a minute and try again`);
  return new HubError('HUB_HTTP', `${where}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${said ? `: ${said}` : ''}`);
}

/** A fetch that failed before any answer (DNS, refused, offline, or blocked by the page's CSP). */
export function networkError(url: string, e: unknown): HubError {
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  return new HubError('HUB_NETWORK', `cannot reach ${host}: the network is down or the address is blocked (${e instanceof Error ? e.message : String(e)})`, { cause: e });
}
