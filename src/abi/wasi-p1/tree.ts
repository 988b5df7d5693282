// What a preopened directory offers the WASI layer: operations on paths already resolved to
// components under its root (resolve.ts follows symlinks and refuses escapes before calling these).
// Two kinds: a host directory (host-tree.ts) and the in-memory VFS (vfs-tree.ts).

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

export interface FileOpen {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
}

export interface TreeFile {
  read(into: Uint8Array, position: number): number;
  write(bytes: Uint8Array, position: number): number;
  stat(): EntryStat;
  truncate(size: number): void;
  /** null leaves a time unchanged. */
  setTimes(atimNs: bigint | null, mtimNs: bigint | null): void;
  sync(): void;
  close(): void;
}

export interface DirEntry {
  name: string;
  kind: EntryKind;
  ino: bigint;
}

export interface Tree {
  readonly writable: boolean;
  /** Does not follow a symlink in the last component. */
  lstat(rel: readonly string[]): EntryStat;
  readlink(rel: readonly string[]): string;
  /** `rel` names a file or nothing (create); never a symlink (O_NOFOLLOW). */
  openFile(rel: readonly string[], how: FileOpen): TreeFile;
  list(rel: readonly string[]): DirEntry[];
  mkdir(rel: readonly string[]): void;
  rmdir(rel: readonly string[]): void;
  unlink(rel: readonly string[]): void;
  rename(from: readonly string[], to: readonly string[]): void;
  symlink(target: string, rel: readonly string[]): void;
  link(from: readonly string[], to: readonly string[]): void;
  setTimes(rel: readonly string[], atimNs: bigint | null, mtimNs: bigint | null): void;
}
