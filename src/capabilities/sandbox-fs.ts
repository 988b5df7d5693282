// `sb.fs`: the host's view of a sandbox's files (in-memory files and mounts), for giving inputs and
// reading results back between runs. Errors carry a Node-style `code` ('ENOENT', ...).
import { Errno, VfsError } from '../vfs/errno.js';
import type { VirtualFS } from '../vfs/vfs.js';

export type FsOp =
  | { op: 'readFile'; path: string }
  | { op: 'writeFile'; path: string; data: string | Uint8Array }
  | { op: 'list'; path: string };

export interface DirEntry {
  name: string;
  kind: 'file' | 'dir';
}

export interface SandboxFiles {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  list(dir: string): Promise<DirEntry[]>;
}

const CODES = Object.fromEntries(Object.entries(Errno).map(([name, n]) => [n, name]));

export class SandboxFsError extends Error {
  override name = 'SandboxFsError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one operation; a plain-data result, or a plain error description (it may cross threads). */
export function runFsOp(vfs: VirtualFS, op: FsOp): { value: unknown } | { code: string; message: string } {
  try {
    if (op.op === 'readFile') return { value: vfs.readFile(op.path).slice() };
    if (op.op === 'writeFile') return { value: vfs.writeFile(op.path, op.data) };
    return { value: vfs.list(op.path) };
  } catch (e) {
    if (e instanceof VfsError) {
      const code = CODES[e.errno] ?? 'EIO';
      return { code, message: `${code}: ${op.op} ${op.path}` };
    }
    if (e instanceof Error) return { code: 'EINVAL', message: e.message };
    throw e;
  }
}

export function unwrapFsResult<T>(result: { value: unknown } | { code: string; message: string }): T {
  if ('code' in result) throw new SandboxFsError(result.code, result.message);
  return result.value as T;
}
