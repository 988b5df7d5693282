// What the virtual filesystem offers to the syscall layers. Two views of one backend: the
// path-level one the Emscripten syscalls use (stat following links inside, only files and
// directories), and the entry-level one WASI needs (lstat with symlinks and other kinds visible,
// nanosecond times, readlink/symlink/link, times and size by descriptor). WASI follows symlinks itself
// (abi/wasi-p1/resolve.ts) and hands the backend paths whose last component is never followed.
export type NodeKind = 'file' | 'dir';

export interface StatInfo {
  kind: NodeKind;
  size: number;
  mtimeMs: number;
  /** Stable within a sandbox; not the host's inode. */
  ino: number;
  writable: boolean;
}

export interface OpenFlags {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  append: boolean;
  directory: boolean;
}

/** An open file; positions are the caller's (the fd layer keeps them). */
export interface FileHandle {
  readonly kind: 'file';
  read(into: Uint8Array, position: number): number;
  write(bytes: Uint8Array, position: number): number;
  size(): number;
  stat(): StatInfo;
  close(): void;
}

export interface DirHandle {
  readonly kind: 'dir';
  entries: { name: string; kind: NodeKind }[];
  stat(): StatInfo;
  close(): void;
}

export type Handle = FileHandle | DirHandle;

/** An entry as lstat sees it: symlinks and other kinds visible, times to the nanosecond. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface EntryStat {
  kind: EntryKind;
  size: bigint;
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  atimNs: bigint;
  mtimNs: bigint;
  ctimNs: bigint;
}

export interface DirEntry {
  name: string;
  kind: EntryKind;
  ino: bigint;
}

export interface FileOpen {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
}

/** A file opened at entry level: what a descriptor may do besides reading and writing. */
export interface EntryFile extends FileHandle {
  entryStat(): EntryStat;
  /** Refused on a read-only backend, as every mutation. */
  truncate(size: number): void;
  /** null leaves a time unchanged. Refused on a read-only backend. */
  setTimes(atimNs: bigint | null, mtimNs: bigint | null): void;
  sync(): void;
}

/** One filesystem under a point of the virtual tree: in memory, or a host directory. */
export interface Backend {
  // Path level (the Emscripten syscalls): a last symlink is followed, inside the backend only.
  stat(rel: readonly string[]): StatInfo;
  open(rel: readonly string[], flags: OpenFlags): Handle;
  mkdir(rel: readonly string[]): void;
  unlink(rel: readonly string[]): void;
  rmdir(rel: readonly string[]): void;
  rename(from: readonly string[], to: readonly string[]): void;

  // Entry level (WASI): a last symlink is never followed.
  lstat(rel: readonly string[]): EntryStat;
  readlink(rel: readonly string[]): string;
  /** `rel` names a file or nothing (create); never a symlink (O_NOFOLLOW). */
  openFile(rel: readonly string[], how: FileOpen): EntryFile;
  list(rel: readonly string[]): DirEntry[];
  symlink(target: string, rel: readonly string[]): void;
  link(from: readonly string[], to: readonly string[]): void;
  setTimes(rel: readonly string[], atimNs: bigint | null, mtimNs: bigint | null): void;
}
