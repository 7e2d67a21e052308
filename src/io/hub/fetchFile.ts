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
 * Where the bytes go, chunk by chunk as they arrive (a model's weights are hundreds of MB to GBs: no
 * chunk is kept here once the sink has taken it). `write` is awaited before the next chunk is read, so
 * a slow sink (storage) slows the download instead of piling chunks up in memory.
 */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void> | void;
  /** Forget everything written: the file starts over from byte 0 (a server that ignored Range). */
  restart(): Promise<void> | void;
}

/** A sink that keeps the chunks and joins them at the end (small files, tests). */
export function memorySink(): ByteSink & { bytes(): Uint8Array } {
  let chunks: Uint8Array[] = [];
  return {
    write(c) { chunks.push(c); },
    restart() { chunks = []; },
    bytes() {
      const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.byteLength; }
      return out;
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    const t = setTimeout(ok, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); fail(signal.reason); }, { once: true });
  });
}

/**
 * Streams the file into `sink`; returns its size and the ETag of the answer that carried it (null when
 * none was sent). Errors the sink throws end the download as they are (never taken for a dropped
 * connection).
 */
export async function fetchFile(url: string, sink: ByteSink, o: FetchFileOptions): Promise<{ size: number; etag: string | null }> {
  const retries = o.retries ?? 3;
  const what = `${o.asked.repo}@${o.asked.revision}: ${o.asked.file}`;
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
        await sink.restart();
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
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (isAbort(e) || o.signal?.aborted) throw cancelled();
        dropped = e;
        break;
      }
      if (chunk.done) break;
      const value = chunk.value;
      received += value.byteLength;
      if (total !== null && received > total) {
        await reader.cancel().catch(() => {});
        throw new HubError('HUB_CORRUPT', `${what}: more bytes than the ${total} listed`);
      }
      try {
        await sink.write(value);
      } catch (e) {
        await reader.cancel().catch(() => {});
        throw e;
      }
      o.onProgress?.({ loaded: received, total });
    }
    if (dropped === null && (total === null || received === total)) return { size: received, etag };
    // The body ended early (a dropped connection, or a short answer): resume from `received`.
    if (++drops > retries) throw interrupted(what, received, total, drops, dropped);
    await sleep((o.backoffMs ?? 500) * 2 ** (drops - 1), o.signal).catch(() => { throw cancelled(); });
  }
}

function interrupted(what: string, received: number, total: number | null, drops: number, e: unknown): HubError {
  const of = total === null ? '' : ` of ${total}`;
  return new HubError('HUB_INTERRUPTED', `${what}: the download stopped at byte ${received}${of} (connection dropped ${drops} times, resumed each time): check the network and try again`, { cause: e });
}
