// Files one pooled run brings and takes back, on the worker's own filesystem: the request's files are
// written before the run, and the files under an output directory are read after it, before the
// worker renews its interpreter and files for the next run (so nothing of one run reaches another).
import type { VirtualFS } from '../vfs/vfs.js';

export interface RunFiles {
  /** Written before the run (in memory; the caller has checked they are not inside a mount). */
  place?: Record<string, string | Uint8Array>;
  /** Created empty before the run; what the run leaves under it comes back in the result. */
  collect?: { dir: string; maxBytes: number };
}

export interface CollectedFile {
  path: string;
  data: Uint8Array;
}

/** What a pooled run asks for, and where the collected files go (before the result resolves). */
export interface RunFilesRequest extends RunFiles {
  onCollected?(collected: Collected): void;
}

export interface Collected {
  files: CollectedFile[];
  /** Files left out: over the byte budget (with their sizes). */
  omitted: { path: string; bytes: number }[];
}

/** Most files walked under the output directory, whatever their sizes. */
const MAX_COLLECTED_ENTRIES = 1000;

export function placeFiles(vfs: VirtualFS, files: RunFiles): void {
  for (const [path, data] of Object.entries(files.place ?? {})) vfs.writeFile(path, data);
  if (files.collect) {
    try {
      vfs.mkdir(files.collect.dir);
    } catch {
      // already there (given by the server's files, or a mount): the run writes into it as it is
    }
  }
}

/** The files under the output directory, in path order, within maxBytes. */
export function collectFiles(vfs: VirtualFS, dir: string, maxBytes: number): Collected {
  const out: Collected = { files: [], omitted: [] };
  let used = 0;
  let seen = 0;
  const walk = (path: string) => {
    let entries: { name: string; kind: 'file' | 'dir' }[];
    try {
      entries = vfs.list(path);
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_COLLECTED_ENTRIES) return;
      const child = `${path}/${e.name}`;
      if (e.kind === 'dir') {
        walk(child);
        continue;
      }
      const size = vfs.stat(child).size;
      if (used + size > maxBytes) {
        out.omitted.push({ path: child, bytes: size });
        continue;
      }
      const data = vfs.readFile(child).slice();
      used += data.length;
      out.files.push({ path: child, data });
    }
  };
  walk(dir.replace(/\/+$/, ''));
  return out;
}
