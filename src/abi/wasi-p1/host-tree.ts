// A host directory as a WASI preopen. Every operation walks to its parent directory one component
// at a time with O_DIRECTORY | O_NOFOLLOW, each step opened through the previous step's descriptor
// (/proc/self/fd/N/NAME), and acts on the last component through that parent descriptor: a
// directory swapped for a symlink at any moment fails the walk instead of leading outside. Symlinks
// inside the tree are read with readlink and followed by resolve.ts, never by the kernel.
import * as fs from 'node:fs';
import { E, WasiError } from './errno.js';
import type { Quota } from '../../vfs/quota.js';
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
  private readonly root: string;
  private readonly setTimesByInode = new Map<string, SetTimes>();

  constructor(
    host: string,
    readonly writable: boolean,
    private readonly quota: Quota,
  ) {
    this.root = fs.realpathSync(host);
    if (!fs.statSync(this.root).isDirectory()) throw new Error(`${host} is not a directory`);
  }

  /** Runs `fn` with the /proc path of `rel`'s parent directory (verified) and the last name. */
  private at<T>(rel: readonly string[], fn: (path: string, parent: string) => T): T {
    let fd = fs.openSync(this.root, C.O_RDONLY | C.O_DIRECTORY);
    try {
      for (const part of rel.slice(0, -1)) {
        const next = fs.openSync(`/proc/self/fd/${fd}/${part}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        fs.closeSync(fd);
        fd = next;
      }
      const parent = `/proc/self/fd/${fd}`;
      return fn(rel.length ? `${parent}/${rel[rel.length - 1]}` : parent, parent);
    } finally {
      fs.closeSync(fd);
    }
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

  private grow(bytes: number): void {
    if (bytes > 0 && this.quota.bytes + bytes > this.quota.maxBytes) throw new WasiError(E.NOSPC, 'write quota');
    this.quota.bytes = Math.max(0, this.quota.bytes + bytes);
  }

  lstat(rel: readonly string[]): EntryStat {
    // The root itself is the walk's descriptor (/proc/self/fd/N is a link to it: stat follows it).
    return this.at(rel, (p) => this.statOf(rel.length ? fs.lstatSync(p, { bigint: true }) : fs.statSync(p, { bigint: true })));
  }

  readlink(rel: readonly string[]): string {
    return this.at(rel, (p) => fs.readlinkSync(p));
  }

  openFile(rel: readonly string[], how: FileOpen): TreeFile {
    if (how.write || how.create || how.truncate) this.mustWrite();
    let flags = (how.write ? (how.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK;
    if (how.create) flags |= C.O_CREAT;
    if (how.exclusive) flags |= C.O_EXCL;
    const fd = this.at(rel, (p) => fs.openSync(p, flags, 0o644));
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) {
      fs.closeSync(fd);
      throw new WasiError(st.isDirectory() ? E.ISDIR : E.ACCES, 'not a regular file');
    }
    if (how.truncate && st.size > 0n) {
      this.grow(-Number(st.size));
      fs.ftruncateSync(fd, 0);
    }
    let open = true;
    const size = () => Number(fs.fstatSync(fd, { bigint: true }).size);
    return {
      read: (into, position) => (into.length ? fs.readSync(fd, into, 0, into.length, position) : 0),
      write: (bytes, position) => {
        this.grow(Math.max(0, position + bytes.length - size()));
        return fs.writeSync(fd, bytes, 0, bytes.length, position);
      },
      stat: () => this.statOf(fs.fstatSync(fd, { bigint: true })),
      truncate: (to) => {
        this.grow(to - size());
        fs.ftruncateSync(fd, to);
      },
      setTimes: (atim, mtim) => {
        const before = this.statOf(fs.fstatSync(fd, { bigint: true }));
        fs.futimesSync(fd, seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs));
        this.rememberTimes(before, fs.fstatSync(fd, { bigint: true }), atim, mtim);
      },
      sync: () => fs.fsyncSync(fd),
      close: () => {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  }

  list(rel: readonly string[]): DirEntry[] {
    return this.at(rel, (p) => {
      // The root is the walk's own descriptor: its /proc link must be followed.
      const dirFd = fs.openSync(p, C.O_RDONLY | C.O_DIRECTORY | (rel.length ? C.O_NOFOLLOW : 0));
      try {
        const dir = `/proc/self/fd/${dirFd}`;
        return fs.readdirSync(dir, { withFileTypes: true }).map((d) => ({
          name: d.name,
          kind: kindOf(d),
          ino: fs.lstatSync(`${dir}/${d.name}`, { bigint: true }).ino,
        }));
      } finally {
        fs.closeSync(dirFd);
      }
    });
  }

  mkdir(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (p) => fs.mkdirSync(p));
  }

  rmdir(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (p) => fs.rmdirSync(p));
  }

  unlink(rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (p) => {
      const st = fs.lstatSync(p);
      if (st.isDirectory()) throw new WasiError(E.ISDIR, 'is a directory');
      fs.unlinkSync(p);
      if (st.isFile() && st.nlink === 1) this.grow(-st.size);
    });
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.mustWrite();
    this.at(from, (a) => this.at(to, (b) => fs.renameSync(a, b)));
  }

  symlink(target: string, rel: readonly string[]): void {
    this.mustWrite();
    this.at(rel, (p) => fs.symlinkSync(target, p));
  }

  link(from: readonly string[], to: readonly string[]): void {
    this.mustWrite();
    this.at(from, (a) => this.at(to, (b) => fs.linkSync(a, b)));
  }

  setTimes(rel: readonly string[], atim: bigint | null, mtim: bigint | null): void {
    this.mustWrite();
    this.at(rel, (p) => {
      const before = this.statOf(rel.length ? fs.lstatSync(p, { bigint: true }) : fs.statSync(p, { bigint: true }));
      (rel.length ? fs.lutimesSync : fs.utimesSync)(p, seconds(atim ?? before.atimNs), seconds(mtim ?? before.mtimNs));
      this.rememberTimes(before, rel.length ? fs.lstatSync(p, { bigint: true }) : fs.statSync(p, { bigint: true }), atim, mtim);
    });
  }
}
