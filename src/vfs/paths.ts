// Guest paths: always absolute and normalised inside the virtual tree. ".." stops at "/", so no
// sequence of components can name anything above the root or above a mount's root.
import { Errno, VfsError } from './errno.js';

const MAX_PATH = 4096;

/**
 * `path` (absolute, or relative to `cwd`) as its list of components; [] is "/". The result is at
 * most MAX_PATH long too, so no working directory makes a path (and a mount's walk of it) deeper.
 */
export function components(path: string, cwd = '/'): string[] {
  if (path.length === 0) throw new VfsError(Errno.ENOENT, 'empty path');
  if (path.length > MAX_PATH) throw new VfsError(Errno.ENAMETOOLONG, 'path too long');
  if (path.includes('\0')) throw new VfsError(Errno.EINVAL, 'NUL in path');
  const out: string[] = [];
  for (const part of (path.startsWith('/') ? path : `${cwd}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  if (out.reduce((n, part) => n + 1 + part.length, 0) > MAX_PATH) throw new VfsError(Errno.ENAMETOOLONG, 'path too long');
  return out;
}

export function joinPath(parts: readonly string[]): string {
  return '/' + parts.join('/');
}

/** The normalised absolute form of a guest path. */
export function normalize(path: string, cwd = '/'): string {
  return joinPath(components(path, cwd));
}
