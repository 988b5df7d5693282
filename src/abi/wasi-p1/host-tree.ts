// A host directory as a WASI preopen, on the same walker as the sandbox's mounts (vfs/host-walk.ts):
// each operation opens the directories of its path one at a time through their verified parent's
// descriptor and acts on the last entry through that descriptor, so a directory swapped for a
// symlink at any moment cannot lead outside. resolve.ts has already followed the guest's symlinks
// with WASI's rules; a link the walk still meets was swapped in meanwhile and is followed only inside.
// What stays here is WASI's: symlinks and other kinds visible, readlink/symlink/link, nanosecond
// times, ROFS for a read-only preopen, and the quota charged per entry, name and byte like a mount.
import * as fs from 'node:fs';
import { E, WasiError } from './errno.js';
import { PROC_FD_ROUTE, viaFd, DIR_OPEN, type FdRoute } from '../../vfs/fd-route.js';
import { foundPath, mountRoot, walkTo, type Found, type MountRoot } from '../../vfs/host-walk.js';
import { HostFd } from '../../vfs/host-fd.js';
import { entryBytes, entryCost, renameCost, type Quota } from '../../vfs/quota.js';
import type { DirEntry, EntryKind, EntryStat, FileOpen, Tree, TreeFile } from './tree.js';

const C = fs.constants;

function kindOf(st: fs.BigIntStats | fs.Dirent): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function rawStat(st: fs.BigIntStats): EntryStat {
  return {
    kind: kindOf(st),
    size: st.size,
    dev: st.dev,
    ino: st.ino,
    nlink: st.nlink,
    atimNs: st.atimeNs,
    mtimNs: st.mtimeNs,
    ctimNs: st.ctimeNs,
  };
}

/** Node's utimes takes seconds as a double: the nearest microsecond survives. */
const seconds = (ns: bigint) => Number(ns / 1000n) / 1e6;

/** Times the guest set, kept to the nanosecond while the host still shows what was written. */
interface SetTimes {
  host: { atim: bigint; mtim: bigint };
  guest: { atim: bigint; mtim: bigint };
}
const MAX_REMEMBERED_TIMES = 10_000;

export class HostTree implements Tree {
  private readonly root: MountRoot;
  private readonly setTimesByInode = new Map<string, SetTimes>();

  /** `route`: how directories are reached by descriptor; only tests choose another. */
  constructor(
    host: string,
    readonly writable: boolean,
    private readonly quota: Quota,
    private readonly route: FdRoute = PROC_FD_ROUTE,
  ) {
    this.root = mountRoot(host, route);
  }

  /** Runs `use` on the entry `rel` names (never following a last symlink); the walk's descriptors are closed after. */
  private at<T>(rel: readonly string[], use: (found: Found, path: string) => T): T {
    return walkTo(this.route, this.root, rel, false, (found) => use(found, foundPath(this.route, found)));
  }

  /** The entry's own stat, to the nanosecond; the root is the walk's open descriptor. */
  private static lstatOf(found: Found, path: string): fs.BigIntStats {
    return found.name === null ? fs.fstatSync(found.dir, { bigint: true }) : fs.lstatSync(path, { bigint: true });
  }

  private static exists(found: Found, what: string): fs.Stats {
    if (!found.st) throw new WasiError(E.NOENT, what);
    return found.st;
  }

  /** For operations on a name (remove, rename, link): never the preopen itself. */
  private static named(found: Found): string {
    if (found.name === null) throw new WasiError(E.ACCES, 'the preopened directory itself');
    return found.name;
  }

  private statOf(st: fs.BigIntStats): EntryStat {
    const out = rawStat(st);
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

  private mustWrite(): void {
    if (!this.writable) throw new WasiError(E.ROFS, 'read-only mount');
  }

  lstat(rel: readonly string[]): EntryStat {
    return this.at(rel, (found, p) => {
      HostTree.exists(found, rel.join('/'));
      return this.statOf(HostTree.lstatOf(found, p));
    });
  }

  readlink(rel: readonly string[]): string {
    return this.at(rel, (found, p) => {
      if (found.name === null) throw new WasiError(E.INVAL, 'not a symlink');
      return fs.readlinkSync(p);
    });
  }

  openFile(rel: readonly string[], how: FileOpen): TreeFile {
    if (how.write || how.create || how.truncate) this.mustWrite();
    const flags = (how.write ? (how.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK;
    const fd = this.at(rel, (found, p) => {
      if (found.st && how.exclusive) throw new WasiError(E.EXIST, rel.join('/'));
      if (found.st || !how.create) return fs.openSync(p, flags);
      // O_EXCL: the entry charged is the one created. One made meanwhile by someone else is not
      // ours to charge; without `exclusive` it is opened as it would have been had it been first.
      try {
        return this.quota.charged(entryBytes(HostTree.named(found)), 1, () => fs.openSync(p, flags | C.O_CREAT | C.O_EXCL, 0o644));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !how.exclusive) return fs.openSync(p, flags);
        throw e;
      }
    });
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (!st.isFile()) throw new WasiError(st.isDirectory() ? E.ISDIR : E.ACCES, 'not a regular file');
      if (how.truncate && st.size > 0n) {
        fs.ftruncateSync(fd, 0);
        this.quota.give(Number(st.size));
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    // Every use goes through the owner: after close it is EBADF, never a number reused since.
    const owner = new HostFd(fd);
    const size = () => Number(fs.fstatSync(owner.fd, { bigint: true }).size);
    return {
      read: (into, position) => (into.length ? fs.readSync(owner.fd, into, 0, into.length, position) : 0),
      write: (bytes, position) => {
        this.quota.take(Math.max(0, position + bytes.length - size()));
        return fs.writeSync(owner.fd, bytes, 0, bytes.length, position);
      },
      stat: () => this.statOf(fs.fstatSync(owner.fd, { bigint: true })),
      truncate: (to) => {
        this.mustWrite();
        const delta = to - size();
        this.quota.charged(delta, 0, () => fs.ftruncateSync(owner.fd, to));
      },
      setTimes: (atim, mtim) => {
        this.mustWrite();
        const before = this.statOf(fs.fstatSync(owner.fd, { bigint: true }));
        fs.futimesSync(owner.fd, seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs));
        this.rememberTimes(before, fs.fstatSync(owner.fd, { bigint: true }), atim, mtim);
      },
      sync: () => fs.fsyncSync(owner.fd),
      close: () => owner.close(),
    };
  }

  list(rel: readonly string[]): DirEntry[] {
    return this.at(rel, (found, p) => {
      HostTree.exists(found, rel.join('/'));
      const dirFd = found.name === null ? found.dir : fs.openSync(p, DIR_OPEN);
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

  mkdir(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (found, p) => {
      if (found.st) throw new WasiError(E.EXIST, rel.join('/') || '.');
      this.quota.charged(entryBytes(HostTree.named(found)), 1, () => fs.mkdirSync(p));
    });
  }

  rmdir(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (found, p) => {
      const name = HostTree.named(found);
      if (!HostTree.exists(found, rel.join('/')).isDirectory()) throw new WasiError(E.NOTDIR, name);
      fs.rmdirSync(p);
      this.quota.give(entryBytes(name), 1);
    });
  }

  unlink(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (found, p) => {
      const name = HostTree.named(found);
      const st = HostTree.exists(found, rel.join('/'));
      if (st.isDirectory()) throw new WasiError(E.ISDIR, 'is a directory');
      fs.unlinkSync(p);
      this.quota.give(entryCost(name, st), 1);
    });
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.mustWrite();
    this.at(from, (src, a) =>
      this.at(to, (dst, b) => {
        const srcName = HostTree.named(src);
        const dstName = HostTree.named(dst);
        const st = HostTree.exists(src, from.join('/'));
        // The same file under either name (itself, or a hard link): rename changes nothing.
        if (dst.st && dst.st.dev === st.dev && dst.st.ino === st.ino) return;
        const cost = renameCost(srcName, dstName, dst.st);
        this.quota.charged(cost.bytes, cost.entries, () => fs.renameSync(a, b));
      }),
    );
  }

  symlink(target: string, rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (found, p) => {
      if (found.st) throw new WasiError(E.EXIST, rel.join('/') || '.');
      this.quota.charged(entryBytes(HostTree.named(found)) + Buffer.byteLength(target), 1, () => fs.symlinkSync(target, p));
    });
  }

  link(from: readonly string[], to: readonly string[]): void {
    this.mustWrite();
    this.at(from, (src, a) =>
      this.at(to, (dst, b) => {
        HostTree.named(src);
        HostTree.exists(src, from.join('/'));
        if (dst.st) throw new WasiError(E.EXIST, to.join('/') || '.');
        this.quota.charged(entryBytes(HostTree.named(dst)), 1, () => fs.linkSync(a, b));
      }),
    );
  }

  setTimes(rel: readonly string[], atim: bigint | null, mtim: bigint | null): void {
    this.mustWrite();
    this.at(rel, (found, p) => {
      const before = this.statOf(HostTree.lstatOf(found, p));
      // The root is named through its descriptor's /proc link, which utimes must follow.
      (found.name === null ? fs.utimesSync : fs.lutimesSync)(p, seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs));
      this.rememberTimes(before, HostTree.lstatOf(found, p), atim, mtim);
    });
  }
}
