// What the virtual filesystem offers to the syscall layer: stat, open handles, directories.
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

/** One filesystem under a point of the virtual tree: in memory, or a host directory. */
export interface Backend {
  stat(rel: readonly string[]): StatInfo;
  open(rel: readonly string[], flags: OpenFlags): Handle;
  mkdir(rel: readonly string[]): void;
  unlink(rel: readonly string[]): void;
  rmdir(rel: readonly string[]): void;
  rename(from: readonly string[], to: readonly string[]): void;
}
