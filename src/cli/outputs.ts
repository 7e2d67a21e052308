// Where a CLI job may write. The page writes through the host's bridge into one folder only: the --out
// folder the user named, or — for a single file such as `eval --logits-out` — a private temporary folder
// (mkdtemp, mode 0700) from which Node moves the file into place at the end. So the folder that holds
// the user's file (their home, say) is never the bridge's, which may list and delete under its folder.
// Everything is checked before Chromium starts: a bad path is one line and exit 2, not a hang at the end.
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './args';

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const reason = (e: unknown) => {
  const code = errno(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'ENOENT') return 'a folder on the way does not exist';
  return (e as Error).message.split('\n')[0];
};

/** Refuses a path Node cannot use at all (a NUL byte makes every fs call throw a TypeError). */
export function checkPathText(path: string, option: string): void {
  if (path.includes('\0')) throw new UsageError(`${option}: the path ${JSON.stringify(path)} holds a NUL byte`);
}

/** The user's --out folder, created if needed; its real path (the bridge's output root). */
export function prepareOutDir(path: string, option = '--out'): string {
  checkPathText(path, option);
  const dir = resolve(path);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${option} ${path} is a file, not a folder`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new UsageError(`${option} ${path}: cannot write there (${reason(e)})`);
  }
  return realpathSync(dir);
}

/** An output file the user named (--logits-out): its folder must exist and be writable; not a folder itself. */
export function checkOutFile(path: string, option: string): string {
  checkPathText(path, option);
  const file = resolve(path);
  const parent = dirname(file);
  let st;
  try {
    st = statSync(parent);
  } catch (e) {
    throw new UsageError(errno(e) === 'ENOENT'
      ? `${option} ${path}: the folder ${parent} does not exist`
      : `${option} ${path}: the folder ${parent} cannot be reached (${reason(e)})`);
  }
  if (!st.isDirectory()) throw new UsageError(`${option} ${path}: ${parent} is not a folder`);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new UsageError(`${option} ${path}: cannot write in ${parent} (${reason(e)})`);
  }
  if (existsSync(file)) {
    const t = statSync(file);
    if (t.isDirectory()) throw new UsageError(`${option} ${path} is a folder; give a file name`);
    // Moving onto a device or a pipe would replace it (/dev/full, say), not write into it.
    if (!t.isFile()) throw new UsageError(`${option} ${path} exists and is not a regular file`);
  }
  return file;
}

/** A private temporary output folder (0700) for single-file outputs; remove it with dispose(). */
export function privateOutDir(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lorasc-out-'));
  chmodSync(dir, 0o700);
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Moves a finished output from the private folder onto the user's path (copy + unlink across devices). */
export function moveInto(from: string, to: string): void {
  try {
    try {
      renameSync(from, to);
    } catch (e) {
      if (errno(e) !== 'EXDEV') throw e;
      // Another file system (/tmp on tmpfs): copy next to the target, then rename, so `to` is never half-written.
      const partial = join(dirname(to), `.${basename(to)}.partial`);
      try {
        copyFileSync(from, partial);
        renameSync(partial, to);
      } catch (e2) {
        rmSync(partial, { force: true });
        throw e2;
      }
      unlinkSync(from);
    }
  } catch (e) {
    throw new Error(`could not write ${to}: ${reason(e)}`);
  }
}
