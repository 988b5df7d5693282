// The guest's file descriptors: stdio, preopened directories and what it opened under them. Rights
// only ever shrink (fd_fdstat_set_rights, inheritance at path_open).
import { WasiErrno, WasiError } from '../../vfs/errno.js';
import { DescriptorTable } from '../../vfs/descriptors.js';
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

/** WASI's view of the one descriptor table: entries with rights, numbered from 0 (stdio, then preopens). */
export class FdTable {
  private readonly table = new DescriptorTable<Fd>(0, MAX_FDS, (fd) => {
    if (fd.kind === 'file') fd.file.close();
  });

  add(fd: Fd): number {
    return this.table.add(fd);
  }

  get(n: number, right: bigint = 0n): Fd {
    const fd = this.table.get(n);
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
    const fd = this.table.get(n);
    if (fd.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, `fd ${n} is not a directory`);
    if ((fd.rightsBase & right) !== right) throw new WasiError(WasiErrno.ENOTCAPABLE, `fd ${n} lacks a right`);
    return fd;
  }

  close(n: number): void {
    this.table.close(n);
  }

  renumber(from: number, to: number): void {
    this.table.renumber(from, to);
  }

  closeAll(): void {
    this.table.closeAll();
  }
}
