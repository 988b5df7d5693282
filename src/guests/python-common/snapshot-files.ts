// The in-memory files as a snapshot section, for both interpreters: they go with the session (host
// mounts do not: the restorer grants its own).
import { SnapshotError } from '../../engine/snapshot.js';
import { normalize } from '../../vfs/paths.js';
import type { VirtualFS } from '../../vfs/vfs.js';

/** The session's in-memory files as a snapshot section (base64 by path). */
export function filesSection(vfs: VirtualFS): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, data] of vfs.memory.files()) files[path] = Buffer.from(data).toString('base64');
  return files;
}

/** A snapshot's files section, checked: only paths the session itself could have written. */
export function readFilesSection(raw: unknown): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) throw new SnapshotError('snapshot files section is malformed');
  for (const [path, data] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (typeof data !== 'string' || !isNormalPath(path)) throw new SnapshotError('snapshot files section is malformed');
    files[path] = new Uint8Array(Buffer.from(data, 'base64'));
  }
  return files;
}

/** Only paths the session itself could have written: absolute and already normalised. */
function isNormalPath(path: string): boolean {
  try {
    return path !== '/' && normalize(path) === path;
  } catch {
    return false;
  }
}
