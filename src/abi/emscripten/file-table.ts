// Open files of one interpreter: POSIX-style descriptors over the sandbox's virtual filesystem.
// Descriptors 0-2 are the standard streams; the rest map to VFS handles with their own positions.
import { Errno, VfsError } from '../../vfs/errno.js';
import type { Handle, OpenFlags } from '../../vfs/types.js';
import type { VirtualFS } from '../../vfs/vfs.js';

const FIRST_FD = 3;
const MAX_OPEN = 256;

export interface OpenFile {
  handle: Handle;
  /** Byte offset for files; index of the next entry for directories. */
  position: number;
  flags: OpenFlags;
}

export class FileTable {
  private readonly open = new Map<number, OpenFile>();

  constructor(readonly vfs: VirtualFS) {}

  add(handle: Handle, flags: OpenFlags): number {
    for (let fd = FIRST_FD; fd < FIRST_FD + MAX_OPEN; fd++) {
      if (!this.open.has(fd)) {
        this.open.set(fd, { handle, position: 0, flags });
        return fd;
      }
    }
    handle.close();
    throw new VfsError(Errno.EMFILE, 'too many open files');
  }

  get(fd: number): OpenFile {
    const file = this.open.get(fd);
    if (!file) throw new VfsError(Errno.EBADF, `fd ${fd}`);
    return file;
  }

  close(fd: number): void {
    this.get(fd).handle.close();
    this.open.delete(fd);
  }

  /** When the interpreter is discarded: its descriptors go with it. */
  closeAll(): void {
    for (const file of this.open.values()) file.handle.close();
    this.open.clear();
  }
}
