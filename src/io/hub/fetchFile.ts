// One file over HTTP, streamed, with progress, and resumed where it stopped when the connection drops:
// the next request asks `Range: bytes={received}-` of the same resolve URL (the Hub re-signs the CDN
// redirect each time, so an expired signed URL is not a dead end). A server that ignores Range (200
// instead of 206) or answers for another offset makes us start the file over, never splice bytes.
import { HubError, isAbort } from './errors';
import { type Asked, httpError, networkError } from './http';

export interface FileProgress {
  loaded: number;
  /** Bytes expected, when known (listing, Content-Length or Content-Range). */
  total: number | null;
}

export interface FetchFileOptions {
  asked: Asked;
  token?: string;
  signal?: AbortSignal;
  /** Size from the listing, if any: the download must end at exactly this many bytes. */
  size?: number;
  onProgress?: (p: FileProgress) => void;
  /** Tries after the first when the connection drops (default 3). */
  retries?: number;
  /** Wait before a retry, in ms (doubles each time; default 500). */
  backoffMs?: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * Where the bytes go: straight into one buffer of the final size when the size is known (a model's
 * weights are hundreds of MB: no second copy at the end), else into chunks joined once at the end.
 */
class Sink {
  private buf: Uint8Array | null = null;
  private chunks: Uint8Array[] = [];
  length = 0;
  push(value: Uint8Array, total: number | null): void {
    if (this.length === 0 && total !== null && this.buf?.byteLength !== total) this.buf = new Uint8Array(total);
    if (this.buf && this.chunks.length === 0 && this.length + value.byteLength <= this.buf.byteLength) this.buf.set(value, this.length);
    else {
      if (this.buf) { this.chunks = [this.buf.subarray(0, this.length)]; this.buf = null; }
      this.chunks.push(value);
    }
    this.length += value.byteLength;
  }
  reset(): void { this.chunks = []; this.length = 0; }
  bytes(): Uint8Array {
    if (this.buf && this.chunks.length === 0) return this.length === this.buf.byteLength ? this.buf : this.buf.slice(0, this.length);
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.byteLength; }
    return out;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    const t = setTimeout(ok, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); fail(signal.reason); }, { once: true });
  });
}

/** The file's bytes and the ETag of the answer that carried them (null when none was sent). */
export async function fetchFile(url: string, o: FetchFileOptions): Promise<{ bytes: Uint8Array; etag: string | null }> {
  const retries = o.retries ?? 3;
  const what = `${o.asked.repo}@${o.asked.revision}: ${o.asked.file}`;
  const sink = new Sink();
  let received = 0;
  let total: number | null = o.size ?? null;
  let drops = 0;
  let etag: string | null = null;
  const cancelled = () => new HubError('HUB_CANCELLED', `${what}: download cancelled`);
  for (;;) {
    if (o.signal?.aborted) throw cancelled();
    const headers: Record<string, string> = {};
    if (o.token) headers.Authorization = `Bearer ${o.token}`;
    if (received > 0) headers.Range = `bytes=${received}-`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: o.signal, cache: 'no-store', redirect: 'follow' });
    } catch (e) {
      if (isAbort(e) || o.signal?.aborted) throw cancelled();
      // Nothing came yet: the Hub is unreachable (a retry would only delay the answer).
      if (received === 0 && drops === 0) throw networkError(url, e);
      if (++drops > retries) throw interrupted(what, received, total, drops, e);
      await sleep((o.backoffMs ?? 500) * 2 ** (drops - 1), o.signal).catch(() => { throw cancelled(); });
      continue;
    }
    if (received > 0) {
      const m = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
      if (res.status !== 206 || !m || Number(m[1]) !== received) {
        // Range ignored or answered for another offset: start the file over.
        sink.reset();
        received = 0;
        if (res.status === 206) { await res.body?.cancel(); continue; }
      }
    }
    if (!res.ok) throw await httpError(res, o.asked);
    if (res.status === 200) {
      // No Content-Length (chunked) or a compressed body: the size stays unknown until the end.
      const header = res.headers.get('content-length');
      const len = header === null ? NaN : Number(header);
      if (total === null && Number.isSafeInteger(len) && len >= 0 && !res.headers.get('content-encoding')) total = len;
    } else {
      const m = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
      if (total === null && m && m[3] !== '*') total = Number(m[3]);
    }
    etag = res.headers.get('etag') ?? etag;
    if (!res.body) throw new HubError('HUB_HTTP', `${what}: the answer has no body`);
    const reader = res.body.getReader();
    let dropped: unknown = null;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sink.push(value, total);
        received += value.byteLength;
        if (total !== null && received > total) throw new HubError('HUB_CORRUPT', `${what}: more bytes than the ${total} listed`);
        o.onProgress?.({ loaded: received, total });
      }
    } catch (e) {
      if (e instanceof HubError) throw e;
      if (isAbort(e) || o.signal?.aborted) throw cancelled();
      dropped = e;
    }
    if (dropped === null && (total === null || received === total)) return { bytes: sink.bytes(), etag };
    // The body ended early (a dropped connection, or a short answer): resume from `received`.
    if (++drops > retries) throw interrupted(what, received, total, drops, dropped);
    await sleep((o.backoffMs ?? 500) * 2 ** (drops - 1), o.signal).catch(() => { throw cancelled(); });
  }
}

function interrupted(what: string, received: number, total: number | null, drops: number, e: unknown): HubError {
  const of = total === null ? '' : ` of ${total}`;
  return new HubError('HUB_INTERRUPTED', `${what}: the download stopped at byte ${received}${of} (connection dropped ${drops} times, resumed each time): check the network and try again`, { cause: e });
}
