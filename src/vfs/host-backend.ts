// A host directory in the sandbox, for both ABIs: a mount of the Emscripten syscalls and a WASI
// preopen. Every operation resolves its path with a HostWalk (host-walk.ts): directories are opened
// one at a time through their verified parent's descriptor, and the final step acts on an entry of an
// open directory through /proc/self/fd, so another sandbox, thread or process swapping a directory
// for a symlink at any moment cannot lead an operation outside. The path-level view shows only
// regular files and directories (no devices, FIFOs or sockets); the entry-level view shows what is
// there, and WASI decides. Read-only refuses every mutation, by path and by open file. Where the
// descriptor route does not exist (not Linux, or no /proc), mounting fails: there is no race-free
// way to resolve paths from Node there.
import * as fs from 'node:fs';
import { Errno, hostErrno, VfsError } from './errno.js';
import { DIR_OPEN, PROC_FD_ROUTE, viaFd, type FdRoute } from './fd-route.js';
import { HostFd } from './host-fd.js';
import { foundPath, mountRoot, walkTo, type Found, type MountRoot } from './host-walk.js';
import { entryBytes, entryCost, renameCost, type Quota } from './quota.js';
import type { Backend, DirEntry, EntryFile, EntryKind, EntryStat, FileOpen, Handle, NodeKind, OpenFlags, StatInfo } from './types.js';

function err(errno: number, what: string): never {
  throw new VfsError(errno, what);
}

/** Host errors as guest errno values; anything unexpected is EIO, never a host message. */
function fromHost(e: unknown): never {
  if (e instanceof VfsError) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  throw new VfsError(hostErrno(code), code ?? 'host error');
}

/** A host fs call whose failure is the guest's errno, never a host exception through the guest. */
function host<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    return fromHost(e);
  }
}

function isFileOrDir(st: fs.Stats): boolean {
  return st.isFile() || st.isDirectory();
}

function kindOf(st: fs.BigIntStats | fs.Dirent): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Node's utimes takes seconds as a double: the nearest microsecond survives. */
const seconds = (ns: bigint) => Number(ns / 1000n) / 1e6;

/** Times the guest set, kept to the nanosecond while the host still shows what was written. */
interface SetTimes {
  host: { atim: bigint; mtim: bigint };
  guest: { atim: bigint; mtim: bigint };
}
const MAX_REMEMBERED_TIMES = 10_000;

export interface MountSpec {
  host: string;
  mode: 'ro' | 'rw';
  /** What a rw mount may gain: bytes (names and an overhead per entry included) and entries. */
  quota: Quota;
}

export class HostBackend implements Backend {
  private readonly root: MountRoot;
  private readonly setTimesByInode = new Map<string, SetTimes>();

  /** `route`: how directories are reached by descriptor; only tests choose another. */
  constructor(
    private readonly spec: MountSpec,
    private readonly route: FdRoute = PROC_FD_ROUTE,
  ) {
    this.root = mountRoot(spec.host, route);
  }

  /** Runs `use` on where `rel` leads; every descriptor of the walk is closed afterwards. */
  private at<T>(rel: readonly string[], followLast: boolean, use: (found: Found) => T): T {
    try {
      return walkTo(this.route, this.root, rel, followLast, use);
    } catch (e) {
      return fromHost(e);
    }
  }

  private path(found: Found): string {
    return foundPath(this.route, found);
  }

  private static info(st: fs.Stats, writable: boolean): StatInfo {
    return { kind: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs, ino: st.ino, writable };
  }

  /** EACCES rather than EROFS: MicroPython's errno module names the former only (WASI answers EROFS for the refusal). */
  private writable(what: string): void {
    if (this.spec.mode !== 'rw') throw new VfsError(Errno.EACCES, `${what}: read-only mount`, 'read-only');
  }

  /** For operations on a name itself (remove, rename, link): never the mount's root. */
  private static named(found: Found): string {
    if (found.name === null) err(Errno.EACCES, 'the mount root itself');
    return found.name;
  }

  private static exists(found: Found, what: string): fs.Stats {
    if (!found.st) err(Errno.ENOENT, what);
    return found.st;
  }

  // Path level.

  stat(rel: readonly string[]): StatInfo {
    return this.at(rel, true, (found) => {
      if (!found.st) err(Errno.ENOENT, rel.join('/'));
      if (!isFileOrDir(found.st)) err(Errno.EACCES, 'not a regular file or directory');
      return HostBackend.info(found.st, this.spec.mode === 'rw');
    });
  }

  open(rel: readonly string[], flags: OpenFlags): Handle {
    if (flags.write || flags.create || flags.truncate) this.writable('open for writing');
    return this.at(rel, true, (found) => {
      if (found.st?.isDirectory()) {
        if (flags.write) err(Errno.EISDIR, rel.join('/'));
        const entries = this.listing(found);
        const st = found.st;
        return { kind: 'dir', entries, stat: () => HostBackend.info(st, this.spec.mode === 'rw'), close: () => {} };
      }
      if (found.st && !isFileOrDir(found.st)) err(Errno.EACCES, 'not a regular file or directory');
      if (found.st && flags.directory) err(Errno.ENOTDIR, rel.join('/'));
      return this.openFound(found, flags);
    });
  }

  /** Opens (or creates, charging the new entry) the file at `found`. */
  private openFound(found: Found, flags: FileOpen): EntryFile {
    const C = fs.constants;
    const mode = (flags.write ? (flags.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK;
    let fd: number;
    if (found.st) {
      if (flags.create && flags.exclusive) err(Errno.EEXIST, found.name ?? '');
      fd = fs.openSync(this.path(found), mode);
    } else {
      if (!flags.create) err(Errno.ENOENT, found.name ?? '');
      // O_EXCL: the entry charged is the one created. One made meanwhile by someone else is not ours
      // to charge; without `exclusive` it is opened as it would have been had it been first.
      try {
        fd = this.spec.quota.charged(entryBytes(HostBackend.named(found)), 1, () => fs.openSync(this.path(found), mode | C.O_CREAT | C.O_EXCL, 0o644));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || flags.exclusive) throw e;
        fd = fs.openSync(this.path(found), mode);
      }
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) err(st.isDirectory() ? Errno.EISDIR : Errno.EACCES, 'not a regular file');
      if (flags.truncate && flags.write && st.size > 0) {
        fs.ftruncateSync(fd, 0);
        this.spec.quota.give(st.size);
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return this.fileOf(new HostFd(fd));
  }

  /** Every use goes through the owner: after close it is EBADF, never a number reused since. */
  private fileOf(owner: HostFd): EntryFile {
    const writable = this.spec.mode === 'rw';
    const size = () => host(() => fs.fstatSync(owner.fd)).size;
    return {
      kind: 'file',
      read: (into, position) => (into.length ? host(() => fs.readSync(owner.fd, into, 0, into.length, position)) : 0),
      write: (bytes, position) => {
        this.spec.quota.take(Math.max(0, position + bytes.length - size()));
        return host(() => fs.writeSync(owner.fd, bytes, 0, bytes.length, position));
      },
      size,
      stat: () => HostBackend.info(host(() => fs.fstatSync(owner.fd)), writable),
      entryStat: () => this.entryStatOf(host(() => fs.fstatSync(owner.fd, { bigint: true }))),
      truncate: (to) => {
        this.writable('truncate');
        this.spec.quota.charged(to - size(), 0, () => host(() => fs.ftruncateSync(owner.fd, to)));
      },
      setTimes: (atim, mtim) => {
        this.writable('set times');
        const before = this.entryStatOf(host(() => fs.fstatSync(owner.fd, { bigint: true })));
        host(() => fs.futimesSync(owner.fd, seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs)));
        this.rememberTimes(before, host(() => fs.fstatSync(owner.fd, { bigint: true })), atim, mtim);
      },
      sync: () => host(() => fs.fsyncSync(owner.fd)),
      close: () => owner.close(),
    };
  }

  /** The files and directories of the directory at `found`; a link is shown only if it leads to one inside. */
  private listing(found: Found): { name: string; kind: NodeKind }[] {
    const dirFd = found.name === null ? found.dir : fs.openSync(this.path(found), DIR_OPEN);
    const names = found.name === null ? found.dirNames : [...found.dirNames, found.name];
    try {
      const out: { name: string; kind: NodeKind }[] = [];
      for (const e of fs.readdirSync(viaFd(this.route, dirFd), { withFileTypes: true })) {
        if (e.isFile()) out.push({ name: e.name, kind: 'file' });
        else if (e.isDirectory()) out.push({ name: e.name, kind: 'dir' });
        else if (e.isSymbolicLink()) {
          try {
            out.push({ name: e.name, kind: this.stat([...names, e.name]).kind });
          } catch {
            // a link leading outside the mount, or to nothing: not shown
          }
        }
      }
      return out;
    } finally {
      if (dirFd !== found.dir) fs.closeSync(dirFd);
    }
  }

  mkdir(rel: readonly string[]): void {
    this.writable('mkdir');
    this.at(rel, false, (found) => {
      if (found.st) err(Errno.EEXIST, rel.join('/') || '/'); // the mount's root too: it exists
      this.spec.quota.charged(entryBytes(HostBackend.named(found)), 1, () => fs.mkdirSync(this.path(found)));
    });
  }

  unlink(rel: readonly string[]): void {
    this.writable('remove');
    this.at(rel, false, (found) => {
      const name = HostBackend.named(found);
      const st = HostBackend.exists(found, rel.join('/'));
      if (st.isDirectory()) err(Errno.EISDIR, rel.join('/'));
      fs.unlinkSync(this.path(found));
      this.spec.quota.give(entryCost(name, st), 1);
    });
  }

  rmdir(rel: readonly string[]): void {
    this.writable('rmdir');
    this.at(rel, false, (found) => {
      const name = HostBackend.named(found);
      if (!HostBackend.exists(found, rel.join('/')).isDirectory()) err(Errno.ENOTDIR, rel.join('/'));
      fs.rmdirSync(this.path(found));
      this.spec.quota.give(entryBytes(name), 1);
    });
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.writable('rename');
    this.at(from, false, (src) =>
      this.at(to, false, (dst) => {
        const srcName = HostBackend.named(src);
        const dstName = HostBackend.named(dst);
        const st = HostBackend.exists(src, from.join('/'));
        // The same file under either name (itself, or a hard link): rename changes nothing.
        if (dst.st && dst.st.dev === st.dev && dst.st.ino === st.ino) return;
        const cost = renameCost(srcName, dstName, dst.st);
        this.spec.quota.charged(cost.bytes, cost.entries, () => fs.renameSync(this.path(src), this.path(dst)));
      }),
    );
  }

  // Entry level.

  /** The entry's own stat, to the nanosecond; the root is the walk's open descriptor. */
  private lstatOf(found: Found): fs.BigIntStats {
    return found.name === null ? fs.fstatSync(found.dir, { bigint: true }) : fs.lstatSync(this.path(found), { bigint: true });
  }

  private entryStatOf(st: fs.BigIntStats): EntryStat {
    const out: EntryStat = { kind: kindOf(st), size: st.size, dev: st.dev, ino: st.ino, nlink: st.nlink, atimNs: st.atimeNs, mtimNs: st.mtimeNs, ctimNs: st.ctimeNs };
    const set = this.setTimesByInode.get(`${st.dev}:${st.ino}`);
    if (set && set.host.atim === st.atimeNs) out.atimNs = set.guest.atim;
    if (set && set.host.mtim === st.mtimeNs) out.mtimNs = set.guest.mtim;
    return out;
  }

  /** After setting times: remember the exact values (the host kept microseconds). */
  private rememberTimes(before: EntryStat, after: fs.BigIntStats, atim: bigint | null, mtim: bigint | null): void {
    if (this.setTimesByInode.size >= MAX_REMEMBERED_TIMES) this.setTimesByInode.clear();
    this.setTimesByInode.set(`${after.dev}:${after.ino}`, {
      host: { atim: after.atimeNs, mtim: after.mtimeNs },
      guest: { atim: atim ?? before.atimNs, mtim: mtim ?? before.mtimNs },
    });
  }

  lstat(rel: readonly string[]): EntryStat {
    return this.at(rel, false, (found) => {
      HostBackend.exists(found, rel.join('/'));
      return this.entryStatOf(this.lstatOf(found));
    });
  }

  readlink(rel: readonly string[]): string {
    return this.at(rel, false, (found) => {
      if (found.name === null) err(Errno.EINVAL, 'not a symlink');
      return fs.readlinkSync(this.path(found));
    });
  }

  openFile(rel: readonly string[], how: FileOpen): EntryFile {
    if (how.write || how.create || how.truncate) this.writable('open for writing');
    return this.at(rel, false, (found) => this.openFound(found, how));
  }

  list(rel: readonly string[]): DirEntry[] {
    return this.at(rel, false, (found) => {
      HostBackend.exists(found, rel.join('/'));
      const dirFd = found.name === null ? found.dir : fs.openSync(this.path(found), DIR_OPEN);
      try {
        const dir = viaFd(this.route, dirFd);
        return fs.readdirSync(dir, { withFileTypes: true }).map((d) => ({
          name: d.name,
          kind: kindOf(d),
          ino: fs.lstatSync(viaFd(this.route, dirFd, d.name), { bigint: true }).ino,
        }));
      } finally {
        if (dirFd !== found.dir) fs.closeSync(dirFd);
      }
    });
  }

  symlink(target: string, rel: readonly string[]): void {
    this.writable('symlink');
    this.at(rel, false, (found) => {
      if (found.st) err(Errno.EEXIST, rel.join('/') || '.');
      this.spec.quota.charged(entryBytes(HostBackend.named(found)) + Buffer.byteLength(target), 1, () => fs.symlinkSync(target, this.path(found)));
    });
  }

  link(from: readonly string[], to: readonly string[]): void {
    this.writable('link');
    this.at(from, false, (src) =>
      this.at(to, false, (dst) => {
        HostBackend.named(src);
        HostBackend.exists(src, from.join('/'));
        if (dst.st) err(Errno.EEXIST, to.join('/') || '.');
        this.spec.quota.charged(entryBytes(HostBackend.named(dst)), 1, () => fs.linkSync(this.path(src), this.path(dst)));
      }),
    );
  }

  setTimes(rel: readonly string[], atim: bigint | null, mtim: bigint | null): void {
    this.writable('set times');
    this.at(rel, false, (found) => {
      const before = this.entryStatOf(this.lstatOf(found));
      // The root is named through its descriptor's /proc link, which utimes must follow.
      (found.name === null ? fs.utimesSync : fs.lutimesSync)(this.path(found), seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs));
      this.rememberTimes(before, this.lstatOf(found), atim, mtim);
    });
  }
}
