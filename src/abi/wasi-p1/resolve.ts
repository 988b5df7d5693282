// Guest paths to components under a preopen's root. The directory descriptor a path is relative to
// is its floor: "..", absolute paths and symlinks whose target leaves it are refused (EscapeError),
// never clamped and never handed to the host's own path resolution.
import { WasiErrno, wasiErrnoOf, WasiError } from '../../vfs/errno.js';
import type { Backend, EntryStat } from '../../vfs/types.js';

const MAX_LINKS = 32;
const MAX_PATH = 4096;

/** The path tried to leave the directory it is relative to. */
export class EscapeError extends WasiError {
  constructor(readonly path: string) {
    super(WasiErrno.EPERM, `path leaves its directory: ${path}`);
  }
}

export interface Resolved {
  /** Components under the tree's root. */
  rel: string[];
  /** The last component's own stat (a symlink's, when not followed), or null when it does not exist. */
  stat: EntryStat | null;
  /** The path ended in "/" (it must name a directory). */
  dirOnly: boolean;
}

function parts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Resolves `path` relative to the directory `base` of `tree`. `follow`: follow a symlink in the last
 * component (always followed when the path ends in "/").
 */
export function resolvePath(tree: Backend, base: readonly string[], path: string, follow: boolean): Resolved {
  if (path.length === 0) throw new WasiError(WasiErrno.ENOENT, 'empty path');
  if (path.length > MAX_PATH) throw new WasiError(WasiErrno.ENAMETOOLONG, 'path too long');
  if (path.includes('\0')) throw new WasiError(WasiErrno.EINVAL, 'NUL in path');
  if (path.startsWith('/')) throw new EscapeError(path);
  let dirOnly = /\/\.?$/.test(path) || path === '.' ;
  const stack: string[] = [];
  const queue = parts(path);
  let links = 0;
  let stat: EntryStat | null = tree.lstat(base);
  while (queue.length) {
    const part = queue.shift()!;
    const last = queue.length === 0;
    if (part === '..') {
      if (stack.length === 0) throw new EscapeError(path);
      stack.pop();
      stat = tree.lstat([...base, ...stack]);
      continue;
    }
    let st: EntryStat | null;
    try {
      st = tree.lstat([...base, ...stack, part]);
    } catch (e) {
      if (last && wasiErrnoOf(e) === WasiErrno.ENOENT) st = null;
      else throw e;
    }
    if (st?.kind === 'symlink' && (!last || follow || dirOnly)) {
      if (++links > MAX_LINKS) throw new WasiError(WasiErrno.ELOOP, 'too many symlinks');
      const target = tree.readlink([...base, ...stack, part]);
      if (target.startsWith('/')) throw new EscapeError(path);
      if (last && target.endsWith('/')) dirOnly = true;
      queue.unshift(...parts(target));
      if (queue.length === 0) stat = tree.lstat([...base, ...stack]);
      continue;
    }
    if (!last && st && st.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, part);
    stack.push(part);
    stat = st;
  }
  if (dirOnly && stat && stat.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, path);
  return { rel: [...base, ...stack], stat, dirOnly };
}
