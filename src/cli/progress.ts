// A one-line progress bar with ETA on stderr (redrawn in place on a terminal, one line per update
// otherwise), and the status/warning lines of a job.
import type { CliEvent } from './jobs';

const fmtTime = (s: number) => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h > 0 ? `${h}:${String(m % 60).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}` : `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
};

export function progressPrinter(out: NodeJS.WriteStream = process.stderr, quiet = false): (e: CliEvent) => void {
  const tty = out.isTTY;
  const t0 = Date.now();
  let lastLine = 0;
  let open = false;
  const line = (s: string) => {
    if (open && tty) out.write('\n');
    open = false;
    out.write(`${s}\n`);
  };
  return (e) => {
    if (quiet) return;
    if (e.type === 'status') line(e.message);
    else if (e.type === 'warning') line(`warning: ${e.message}`);
    else if (e.type === 'log') line(Object.entries(e.entry).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(5)}`).join('  '));
    else if (e.type === 'load') {
      const now = Date.now();
      if (!tty && now - lastLine < 2000 && e.bytes !== e.total) return;
      lastLine = now;
      const frac = e.total > 0 ? e.bytes / e.total : 1;
      const width = 24, filled = Math.round(frac * width);
      const rate = e.bytes / 1e6 / Math.max(e.elapsedMs / 1000, 1e-3);
      const eta = rate > 0 ? (e.total - e.bytes) / 1e6 / rate : NaN;
      const s = `loading [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(e.bytes / 1e6).toFixed(1)}/${(e.total / 1e6).toFixed(1)} MB  ${rate.toFixed(1)} MB/s  ETA ${fmtTime(eta)}`;
      if (tty) { out.write(`\r${s}\x1b[K`); open = true; } else out.write(`${s}\n`);
    } else if (e.type === 'progress') {
      const now = Date.now();
      if (!tty && now - lastLine < 2000 && e.done !== e.total) return;
      lastLine = now;
      const frac = e.total > 0 ? e.done / e.total : 0;
      const width = 24, filled = Math.round(frac * width);
      const elapsed = (now - t0) / 1000;
      const eta = frac > 0 ? elapsed * (1 - frac) / frac : NaN;
      const parts = [`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.done}/${e.total || '?'}`];
      if (e.loss !== undefined) parts.push(`loss ${e.loss.toFixed(4)}`);
      if (e.tokensPerSec !== undefined) parts.push(`${e.tokensPerSec.toFixed(1)} tok/s`);
      parts.push(`ETA ${fmtTime(eta)}`);
      const s = parts.join('  ');
      if (tty) { out.write(`\r${s}\x1b[K`); open = true; } else out.write(`${s}\n`);
    }
  };
}
