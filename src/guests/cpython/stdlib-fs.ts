// The sandbox's filesystem as CPython sees it: the session's VFS, plus the standard library zip at
// /lib/python314.zip, read-only, shared by every interpreter and never counted against quotas. The
// template's zipimport already holds the zip's directory: the zip is read when a program imports a
// module the template has not, not at start-up.
import { Errno, VfsError } from '../../vfs/errno.js';
import { normalize } from '../../vfs/paths.js';
import type { FileHandle, Handle, OpenFlags, StatInfo } from '../../vfs/types.js';
import { VirtualFS, type VfsOptions } from '../../vfs/vfs.js';
import { STDLIB_GUEST_PATH } from './abi.js';

const STDLIB_INO = 0x7fff_0001;
const FIXED_MTIME_MS = Date.UTC(2025, 0, 1);

function stdlibStat(size: number): StatInfo {
  return { kind: 'file', size, mtimeMs: FIXED_MTIME_MS, ino: STDLIB_INO, writable: false };
}

function readOnlyFile(bytes: Uint8Array): FileHandle {
  return {
    kind: 'file',
    read(into, position) {
      const n = Math.max(0, Math.min(into.length, bytes.length - position));
      into.set(bytes.subarray(position, position + n));
      return n;
    },
    write() {
      throw new VfsError(Errno.EROFS, STDLIB_GUEST_PATH);
    },
    size: () => bytes.length,
    stat: () => stdlibStat(bytes.length),
    close() {},
  };
}

/** The zip: its size, and its bytes, read when an interpreter first opens it (a template needs none). */
export interface StdlibSource {
  size: number;
  bytes(): Uint8Array;
}

export class CPythonFS extends VirtualFS {
  private readonly stdlib: StdlibSource;

  constructor(options: VfsOptions, stdlib: Uint8Array | StdlibSource) {
    super(options);
    this.stdlib = stdlib instanceof Uint8Array ? { size: stdlib.length, bytes: () => stdlib } : stdlib;
  }

  private isStdlib(path: string): boolean {
    try {
      return normalize(path, this.cwd) === STDLIB_GUEST_PATH;
    } catch {
      return false;
    }
  }

  override stat(path: string): StatInfo {
    return this.isStdlib(path) ? stdlibStat(this.stdlib.size) : super.stat(path);
  }

  override open(path: string, flags: OpenFlags): Handle {
    if (!this.isStdlib(path)) return super.open(path, flags);
    if (flags.write || flags.truncate || flags.create) throw new VfsError(Errno.EROFS, STDLIB_GUEST_PATH);
    if (flags.directory) throw new VfsError(Errno.ENOTDIR, STDLIB_GUEST_PATH);
    return readOnlyFile(this.stdlib.bytes());
  }

  override unlink(path: string): void {
    if (this.isStdlib(path)) throw new VfsError(Errno.EROFS, STDLIB_GUEST_PATH);
    super.unlink(path);
  }

  override rename(from: string, to: string): void {
    if (this.isStdlib(from) || this.isStdlib(to)) throw new VfsError(Errno.EROFS, STDLIB_GUEST_PATH);
    super.rename(from, to);
  }
}
