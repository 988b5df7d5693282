// Files given to the sandbox at creation and anything the guest writes outside mounts: kept in host
// memory, within a quota of bytes and entries (each file and directory costs its name and an overhead).
import { Errno, VfsError } from './errno.js';
import { entryBytes, type Quota } from './quota.js';
import type { Backend, DirEntry, DirHandle, EntryFile, EntryStat, FileOpen, OpenFlags, StatInfo } from './types.js';

interface FileNode {
  kind: 'file';
  data: Uint8Array;
  size: number;
  mtimeMs: number;
  ino: number;
}
interface DirNode {
  kind: 'dir';
  children: Map<string, FileNode | DirNode>;
  mtimeMs: number;
  ino: number;
}
type MemNode = FileNode | DirNode;

let nextIno = 1;

function err(errno: number, what: string): never {
  throw new VfsError(errno, what);
}

export class MemoryBackend implements Backend {
  readonly root: DirNode = { kind: 'dir', children: new Map(), mtimeMs: Date.now(), ino: nextIno++ };

  constructor(private readonly quota: Quota) {}

  private lookup(rel: readonly string[]): MemNode {
    let node: MemNode = this.root;
    for (const part of rel) {
      if (node.kind !== 'dir') err(Errno.ENOTDIR, part);
      const next: MemNode | undefined = node.children.get(part);
      if (!next) err(Errno.ENOENT, part);
      node = next;
    }
    return node;
  }

  private parent(rel: readonly string[]): { dir: DirNode; name: string } {
    if (rel.length === 0) err(Errno.EEXIST, '/');
    const dir = this.lookup(rel.slice(0, -1));
    if (dir.kind !== 'dir') err(Errno.ENOTDIR, rel.join('/'));
    return { dir, name: rel[rel.length - 1] };
  }

  private static info(node: MemNode): StatInfo {
    return { kind: node.kind, size: node.kind === 'file' ? node.size : 0, mtimeMs: node.mtimeMs, ino: node.ino, writable: true };
  }

  stat(rel: readonly string[]): StatInfo {
    return MemoryBackend.info(this.lookup(rel));
  }

  // Entry level (WASI): nothing here is a symlink, so lstat is stat. No symlinks, hard links or
  // settable times: those answer EOPNOTSUPP.

  private static entryStat(node: MemNode): EntryStat {
    const ns = BigInt(Math.round(node.mtimeMs)) * 1_000_000n;
    return { kind: node.kind, size: BigInt(node.kind === 'file' ? node.size : 0), dev: 1n, ino: BigInt(node.ino), nlink: 1n, atimNs: ns, mtimNs: ns, ctimNs: ns };
  }

  lstat(rel: readonly string[]): EntryStat {
    return MemoryBackend.entryStat(this.lookup(rel));
  }

  readlink(): string {
    err(Errno.EINVAL, 'not a symlink');
  }

  openFile(rel: readonly string[], how: FileOpen): EntryFile {
    const handle = this.open(rel, { ...how, append: false, directory: false });
    if (handle.kind !== 'file') err(Errno.EISDIR, rel.join('/'));
    return handle;
  }

  /** Names directly under `rel`. */
  list(rel: readonly string[]): DirEntry[] {
    const node = this.lookup(rel);
    if (node.kind !== 'dir') err(Errno.ENOTDIR, rel.join('/'));
    return [...node.children].map(([name, n]) => ({ name, kind: n.kind, ino: BigInt(n.ino) }));
  }

  symlink(): void {
    err(Errno.EOPNOTSUPP, 'no symlinks in the in-memory filesystem');
  }

  link(): void {
    err(Errno.EOPNOTSUPP, 'no hard links in the in-memory filesystem');
  }

  setTimes(): void {
    err(Errno.EOPNOTSUPP, 'no settable times in the in-memory filesystem');
  }

  private addFile(dir: DirNode, name: string): FileNode {
    this.quota.take(entryBytes(name), 1);
    const file: FileNode = { kind: 'file', data: new Uint8Array(0), size: 0, mtimeMs: Date.now(), ino: nextIno++ };
    dir.children.set(name, file);
    return file;
  }

  private resize(file: FileNode, size: number): void {
    const grow = size - file.size;
    this.quota.take(grow);
    if (size > file.data.length) {
      const data = new Uint8Array(Math.max(size, file.data.length * 2, 64));
      data.set(file.data.subarray(0, file.size));
      file.data = data;
    } else if (size < file.size) {
      file.data.fill(0, size, file.size);
    }
    file.size = size;
    file.mtimeMs = Date.now();
  }

  open(rel: readonly string[], flags: OpenFlags): DirHandle | EntryFile {
    let node: MemNode;
    try {
      node = this.lookup(rel);
      if (flags.create && flags.exclusive) err(Errno.EEXIST, rel.join('/'));
    } catch (e) {
      if (!(e instanceof VfsError) || e.errno !== Errno.ENOENT || !flags.create) throw e;
      const { dir, name } = this.parent(rel);
      node = this.addFile(dir, name);
    }
    if (node.kind === 'dir') {
      if (flags.write) err(Errno.EISDIR, rel.join('/'));
      const dir = node;
      return {
        kind: 'dir',
        entries: [...dir.children].map(([name, n]) => ({ name, kind: n.kind })),
        stat: () => MemoryBackend.info(dir),
        close: () => {},
      } satisfies DirHandle;
    }
    if (flags.directory) err(Errno.ENOTDIR, rel.join('/'));
    const file = node;
    if (flags.truncate && flags.write) this.resize(file, 0);
    return {
      kind: 'file',
      read: (into, position) => {
        const n = Math.max(0, Math.min(into.length, file.size - position));
        into.set(file.data.subarray(position, position + n));
        return n;
      },
      write: (bytes, position) => {
        const end = position + bytes.length;
        if (end > file.size) this.resize(file, end);
        file.data.set(bytes, position);
        file.mtimeMs = Date.now();
        return bytes.length;
      },
      size: () => file.size,
      stat: () => MemoryBackend.info(file),
      entryStat: () => MemoryBackend.entryStat(file),
      truncate: (size) => this.resize(file, size),
      setTimes: () => err(Errno.EOPNOTSUPP, 'no settable times in the in-memory filesystem'),
      sync: () => {},
      close: () => {},
    } satisfies EntryFile;
  }

  mkdir(rel: readonly string[]): void {
    const { dir, name } = this.parent(rel);
    if (dir.children.has(name)) err(Errno.EEXIST, rel.join('/'));
    this.quota.take(entryBytes(name), 1);
    dir.children.set(name, MemoryBackend.newDir());
  }

  /** A mount point and its parents: made by the host, so outside the quota. */
  mountPoint(rel: readonly string[]): void {
    let dir = this.root;
    for (const part of rel) {
      const next = dir.children.get(part) ?? MemoryBackend.newDir();
      if (next.kind !== 'dir') err(Errno.ENOTDIR, part);
      dir.children.set(part, next);
      dir = next;
    }
  }

  private static newDir(): DirNode {
    return { kind: 'dir', children: new Map(), mtimeMs: Date.now(), ino: nextIno++ };
  }

  unlink(rel: readonly string[]): void {
    const { dir, name } = this.parent(rel);
    const node = dir.children.get(name);
    if (!node) err(Errno.ENOENT, rel.join('/'));
    if (node.kind === 'dir') err(Errno.EISDIR, rel.join('/'));
    dir.children.delete(name);
    this.quota.give(node.size + entryBytes(name), 1);
  }

  rmdir(rel: readonly string[]): void {
    const { dir, name } = this.parent(rel);
    const node = dir.children.get(name);
    if (!node) err(Errno.ENOENT, rel.join('/'));
    if (node.kind !== 'dir') err(Errno.ENOTDIR, rel.join('/'));
    if (node.children.size) err(Errno.ENOTEMPTY, rel.join('/'));
    dir.children.delete(name);
    this.quota.give(entryBytes(name), 1);
  }

  rename(from: readonly string[], to: readonly string[]): void {
    const src = this.parent(from);
    const node = src.dir.children.get(src.name);
    if (!node) err(Errno.ENOENT, from.join('/'));
    if (node.kind === 'dir' && to.length > from.length && from.every((p, i) => to[i] === p)) err(Errno.EINVAL, 'into itself');
    const dst = this.parent(to);
    const existing = dst.dir.children.get(dst.name);
    if (existing === node) return; // onto itself: nothing changes, nothing is given back
    if (existing?.kind === 'dir' && (node.kind !== 'dir' || existing.children.size)) err(Errno.EISDIR, to.join('/'));
    if (existing?.kind === 'file' && node.kind === 'dir') err(Errno.ENOTDIR, to.join('/'));
    // The entry now costs its new name; a replaced entry gives back its name and data.
    const replaced = existing ? entryBytes(dst.name) + (existing.kind === 'file' ? existing.size : 0) : 0;
    this.quota.take(entryBytes(dst.name) - entryBytes(src.name) - replaced, existing ? -1 : 0);
    src.dir.children.delete(src.name);
    dst.dir.children.set(dst.name, node);
  }

  /** Host API: the whole tree as path -> bytes (for snapshots and `sb.fs`). */
  files(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const walk = (dir: DirNode, prefix: string) => {
      for (const [name, node] of dir.children) {
        if (node.kind === 'dir') walk(node, `${prefix}/${name}`);
        else out.set(`${prefix}/${name}`, node.data.slice(0, node.size));
      }
    };
    walk(this.root, '');
    return out;
  }

  /** Host API: creates a file (and its directories) with `data`, within the quota. */
  put(rel: readonly string[], data: Uint8Array): void {
    for (let i = 1; i < rel.length; i++) {
      try {
        this.mkdir(rel.slice(0, i));
      } catch (e) {
        if (!(e instanceof VfsError) || e.errno !== Errno.EEXIST) throw e;
      }
    }
    const handle = this.open(rel, { read: false, write: true, create: true, exclusive: false, truncate: true, append: false, directory: false });
    if (handle.kind !== 'file') err(Errno.EISDIR, rel.join('/'));
    handle.write(data, 0);
  }
}
