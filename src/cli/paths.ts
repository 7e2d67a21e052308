// Paths the CLI's file bridge (host.ts) touches, resolved on disk rather than lexically: a symbolic link
// inside a model or data folder may point anywhere, and a symlinked folder inside the output folder would
// carry writes (and recursive deletes) out of it. Reads: the real path must lie under a real root.
// Writes: every folder between the output root and the file must be a real folder, not a link.
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/** A request the bridge refuses: its HTTP status and a one-line reason. */
export class Refused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'Refused';
  }
}

export function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** realpath, with a missing file as a 404 and a NUL byte as a 400 (Node throws a TypeError for those). */
async function real(path: string, shown: string): Promise<string> {
  if (path.includes('\0')) throw new Refused(400, `a NUL byte in the path ${JSON.stringify(shown)}`);
  try {
    return await realpath(path);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') throw new Refused(404, `no such file: ${shown}`);
    throw e;
  }
}

/** The real path of an existing `path` that lies under one of `roots` (real paths themselves). */
export async function realUnder(path: string, roots: readonly string[], shown = path): Promise<string> {
  const p = await real(path, shown);
  if (!roots.some((r) => within(p, r))) throw new Refused(403, `outside the folders of this command: ${shown}`);
  return p;
}

/** An output-relative path as its parts: no `..`, not absolute, no NUL, not the root itself. */
export function outParts(rel: string): string[] {
  if (rel.includes('\0')) throw new Refused(400, `a NUL byte in the output path ${JSON.stringify(rel)}`);
  const n = normalize(rel);
  const parts = n.split(sep).filter((s) => s !== '' && s !== '.');
  if (!rel || isAbsolute(n) || parts.length === 0 || parts.includes('..')) throw new Refused(400, `bad output path ${JSON.stringify(rel)}`);
  return parts;
}

/**
 * The folder that will hold output `parts` (the last part is the file), created one level at a time under
 * `root`; a level that exists as a symbolic link or a file is refused, so nothing is created through it.
 */
export async function outFolderFor(root: string, parts: readonly string[]): Promise<string> {
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    try {
      await mkdir(dir);
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e;
    }
    const st = await lstat(dir);
    if (st.isSymbolicLink()) throw new Refused(403, `${parts.join('/')}: ${relative(root, dir)} is a symbolic link; outputs are not written through links`);
    if (!st.isDirectory()) throw new Refused(409, `${parts.join('/')}: ${relative(root, dir)} is a file, not a folder`);
  }
  return dir;
}

/** The real path of an existing output `parts` under `root`, refused when a link takes it outside. */
export async function outExisting(root: string, parts: readonly string[]): Promise<string> {
  return realUnder(join(root, ...parts), [root], parts.join('/'));
}
