// The guest's file descriptors: stdio, preopened directories and what it opened under them. Rights
// only ever shrink (fd_fdstat_set_rights, inheritance at path_open).
import { WasiErrno, WasiError } from '../../vfs/errno.js';
import type { Backend, EntryFile } from '../../vfs/types.js';

interface Common {
  rightsBase: bigint;
  rightsInheriting: bigint;
  fdflags: number;
}

export interface StdioFd extends Common {
  kind: 'stdio';
  stream: 0 | 1 | 2;
}

export interface FileFd extends Common {
  kind: 'file';
  tree: Backend;
  rel: string[];
  file: EntryFile;
  position: number;
}

export interface DirFd extends Common {
  kind: 'dir';
  tree: Backend;
  rel: string[];
  /** The guest path of a preopen (fd_prestat_dir_name); null for directories opened later. */
  preopen: string | null;
}

export type Fd = StdioFd | FileFd | DirFd;

/** Descriptors a guest may hold at once (each file holds a host descriptor). */
const MAX_FDS = 1024;

export class FdTable {
  private readonly fds = new Map<number, Fd>();

  add(fd: Fd): number {
    if (this.fds.size >= MAX_FDS) throw new WasiError(WasiErrno.EMFILE, 'too many open files');
    let n = 0;
    while (this.fds.has(n)) n++;
    this.fds.set(n, fd);
    return n;
  }

  get(n: number, right: bigint = 0n): Fd {
    const fd = this.fds.get(n);
    if (!fd) throw new WasiError(WasiErrno.EBADF, `fd ${n}`);
    if ((fd.rightsBase & right) !== right) throw new WasiError(WasiErrno.ENOTCAPABLE, `fd ${n} lacks a right`);
    return fd;
  }

  file(n: number, right: bigint = 0n): FileFd {
    const fd = this.get(n, right);
    if (fd.kind === 'dir') throw new WasiError(WasiErrno.EISDIR, `fd ${n} is a directory`);
    if (fd.kind !== 'file') throw new WasiError(WasiErrno.EBADF, `fd ${n} is not a file`);
    return fd;
  }

  dir(n: number, right: bigint = 0n): DirFd {
    const fd = this.get(n);
    if (fd.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, `fd ${n} is not a directory`);
    if ((fd.rightsBase & right) !== right) throw new WasiError(WasiErrno.ENOTCAPABLE, `fd ${n} lacks a right`);
    return fd;
  }

  close(n: number): void {
    const fd = this.get(n);
    if (fd.kind === 'file') fd.file.close();
    this.fds.delete(n);
  }

  /** As dup2: `to` is closed first, unless it is `from` itself (then nothing changes). */
  renumber(from: number, to: number): void {
    const fd = this.get(from);
    this.get(to);
    if (from === to) return;
    this.close(to);
    this.fds.delete(from);
    this.fds.set(to, fd);
  }

  closeAll(): void {
    for (const fd of this.fds.values()) if (fd.kind === 'file') fd.file.close();
    this.fds.clear();
  }
}
