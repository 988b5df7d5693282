// Open files of one interpreter: POSIX-style descriptors over the sandbox's virtual filesystem.
// Descriptors 0-2 are the standard streams; the rest map to VFS handles with their own positions.
import { DescriptorTable } from '../../vfs/descriptors.js';
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

/** The Emscripten syscalls' view of the one descriptor table: numbered from 3 (0-2 are the streams). */
export class FileTable {
  private readonly table = new DescriptorTable<OpenFile>(FIRST_FD, MAX_OPEN, (file) => file.handle.close());

  constructor(readonly vfs: VirtualFS) {}

  add(handle: Handle, flags: OpenFlags): number {
    try {
      return this.table.add({ handle, position: 0, flags });
    } catch (e) {
      handle.close();
      throw e;
    }
  }

  get(fd: number): OpenFile {
    return this.table.get(fd);
  }

  close(fd: number): void {
    this.table.close(fd);
  }

  /** Descriptors open beyond the standard streams. */
  get openCount(): number {
    return this.table.size;
  }

  /** When the interpreter is discarded: its descriptors go with it. */
  closeAll(): void {
    this.table.closeAll();
  }
}
