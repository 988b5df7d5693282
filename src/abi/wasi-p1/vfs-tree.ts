// The in-memory VFS (files given to the run) as a WASI preopen, through VirtualFS's public API.
// It has no symlinks, hard links or settable times: those calls answer NOTSUP.
import { joinPath } from '../../vfs/paths.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import type { FileHandle, StatInfo } from '../../vfs/types.js';
import { E, WasiError } from './errno.js';
import type { DirEntry, EntryStat, FileOpen, Tree, TreeFile } from './tree.js';

const ms = (t: number) => BigInt(Math.round(t)) * 1_000_000n;

function statOf(st: StatInfo): EntryStat {
  return { kind: st.kind, size: BigInt(st.size), dev: 1n, ino: BigInt(st.ino), nlink: 1n, atimNs: ms(st.mtimeMs), mtimNs: ms(st.mtimeMs), ctimNs: ms(st.mtimeMs) };
}

const unsupported = (): never => {
  throw new WasiError(E.NOTSUP, 'not supported by the in-memory filesystem');
};

export class VfsTree implements Tree {
  readonly writable = true;

  constructor(private readonly vfs: VirtualFS) {}

  lstat(rel: readonly string[]): EntryStat {
    return statOf(this.vfs.stat(joinPath(rel)));
  }

  readlink(): string {
    throw new WasiError(E.INVAL, 'not a symlink');
  }

  openFile(rel: readonly string[], how: FileOpen): TreeFile {
    const handle = this.vfs.open(joinPath(rel), { ...how, append: false, directory: false });
    if (handle.kind !== 'file') {
      handle.close();
      throw new WasiError(E.ISDIR, 'is a directory');
    }
    const file: FileHandle = handle;
    return {
      read: (into, position) => file.read(into, position),
      write: (bytes, position) => file.write(bytes, position),
      stat: () => statOf(file.stat()),
      truncate: (size) => {
        if (size < file.size()) unsupported();
        if (size > file.size()) file.write(new Uint8Array(size - file.size()), file.size());
      },
      setTimes: unsupported,
      sync: () => {},
      close: () => file.close(),
    };
  }

  list(rel: readonly string[]): DirEntry[] {
    const path = joinPath(rel);
    return this.vfs.list(path).map((e) => ({ name: e.name, kind: e.kind, ino: BigInt(this.vfs.stat(joinPath([...rel, e.name])).ino) }));
  }

  mkdir(rel: readonly string[]): void {
    this.vfs.mkdir(joinPath(rel));
  }

  rmdir(rel: readonly string[]): void {
    this.vfs.rmdir(joinPath(rel));
  }

  unlink(rel: readonly string[]): void {
    this.vfs.unlink(joinPath(rel));
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.vfs.rename(joinPath(from), joinPath(to));
  }

  symlink(): void {
    unsupported();
  }

  link(): void {
    unsupported();
  }

  setTimes(): void {
    unsupported();
  }
}
