// A host directory mounted into the sandbox. Every operation resolves its path with a HostWalk
// (host-walk.ts): directories are opened one at a time through their verified parent's descriptor,
// and the final step (open, stat, mkdir, unlink, rmdir, rename, listing) acts on an entry of an open
// directory through /proc/self/fd, so another sandbox, thread or process swapping a directory for a
// symlink at any moment cannot lead an operation outside. Only regular files and directories are
// visible: no devices, FIFOs or sockets. Where the descriptor route does not exist (not Linux, or no
// /proc), mounting fails: there is no race-free way to resolve paths from Node there.
import * as fs from 'node:fs';
import { Errno, VfsError } from './errno.js';
import { DIR_OPEN, viaFd, type FdRoute } from './fd-route.js';
import { HostFd } from './host-fd.js';
import { foundPath, mountRoot, walkTo, type Found, type MountRoot } from './host-walk.js';
import { entryBytes, entryCost, renameCost, type Quota } from './quota.js';
import type { Backend, FileHandle, Handle, NodeKind, OpenFlags, StatInfo } from './types.js';

function err(errno: number, what: string): never {
  throw new VfsError(errno, what);
}

const HOST_ERRNO: Record<string, number> = {
  ENOENT: Errno.ENOENT,
  EEXIST: Errno.EEXIST,
  ENOTDIR: Errno.ENOTDIR,
  EISDIR: Errno.EISDIR,
  ENOTEMPTY: Errno.ENOTEMPTY,
  EACCES: Errno.EACCES,
  EPERM: Errno.EACCES,
  ELOOP: Errno.ELOOP,
  EINVAL: Errno.EINVAL,
  ENOSPC: Errno.ENOSPC,
  EROFS: Errno.EROFS,
  ENAMETOOLONG: Errno.ENAMETOOLONG,
  EXDEV: Errno.EXDEV,
  EMFILE: Errno.EMFILE,
  ENFILE: Errno.EMFILE,
};

/** Host errors as guest errno values; anything unexpected is EIO, never a host message. */
function fromHost(e: unknown): never {
  if (e instanceof VfsError) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  throw new VfsError(HOST_ERRNO[code ?? ''] ?? Errno.EIO, code ?? 'host error');
}

/** A host fs call whose failure is the guest's OSError, never a host exception through the guest. */
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

export interface MountSpec {
  host: string;
  mode: 'ro' | 'rw';
  /** What a rw mount may gain: bytes (names and an overhead per entry included) and entries. */
  quota: Quota;
}

export class HostBackend implements Backend {
  private readonly root: MountRoot;

  constructor(
    private readonly spec: MountSpec,
    private readonly route: FdRoute,
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

  /** EACCES rather than EROFS: MicroPython's errno module names the former only. */
  private writable(what: string): void {
    if (this.spec.mode !== 'rw') throw new VfsError(Errno.EACCES, `${what}: read-only mount`, 'read-only');
  }

  /** For operations on a name itself (remove, rename): never the mount's root. */
  private static named(rel: readonly string[]): void {
    if (rel.length === 0) err(Errno.EACCES, 'the mount root itself');
  }

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
      return this.openFile(found, flags);
    });
  }

  /** Opens (or creates, charging the new entry) the file at `found`. */
  private openFile(found: Found, flags: OpenFlags): FileHandle {
    const C = fs.constants;
    const mode = (flags.write ? (flags.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY) | C.O_NOFOLLOW | C.O_NONBLOCK;
    let fd: number;
    if (found.st) {
      if (flags.create && flags.exclusive) err(Errno.EEXIST, found.name ?? '');
      fd = fs.openSync(this.path(found), mode);
    } else {
      if (!flags.create) err(Errno.ENOENT, found.name ?? '');
      // O_EXCL: the entry charged is the one created; one made meanwhile by someone else is not ours.
      fd = this.spec.quota.charged(entryBytes(found.name!), 1, () => fs.openSync(this.path(found), mode | C.O_CREAT | C.O_EXCL, 0o644));
    }
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
      if (!st.isFile()) err(st.isDirectory() ? Errno.EISDIR : Errno.EACCES, 'changed while opening');
      if (flags.truncate && flags.write && st.size > 0) {
        fs.ftruncateSync(fd, 0);
        this.spec.quota.give(st.size);
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    const writable = this.spec.mode === 'rw';
    // Every use goes through the owner: after close it is EBADF, never a number reused since.
    const owner = new HostFd(fd);
    return {
      kind: 'file',
      read: (into, position) => (into.length ? host(() => fs.readSync(owner.fd, into, 0, into.length, position)) : 0),
      write: (bytes, position) => {
        const size = host(() => fs.fstatSync(owner.fd)).size;
        this.spec.quota.take(Math.max(0, position + bytes.length - size));
        return host(() => fs.writeSync(owner.fd, bytes, 0, bytes.length, position));
      },
      size: () => host(() => fs.fstatSync(owner.fd)).size,
      stat: () => HostBackend.info(host(() => fs.fstatSync(owner.fd)), writable),
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
      this.spec.quota.charged(entryBytes(found.name!), 1, () => fs.mkdirSync(this.path(found)));
    });
  }

  unlink(rel: readonly string[]): void {
    this.writable('remove');
    HostBackend.named(rel);
    this.at(rel, false, (found) => {
      if (!found.st) err(Errno.ENOENT, rel.join('/'));
      if (found.st.isDirectory()) err(Errno.EISDIR, rel.join('/'));
      fs.unlinkSync(this.path(found));
      this.spec.quota.give(entryCost(found.name!, found.st), 1);
    });
  }

  rmdir(rel: readonly string[]): void {
    this.writable('rmdir');
    HostBackend.named(rel);
    this.at(rel, false, (found) => {
      if (!found.st) err(Errno.ENOENT, rel.join('/'));
      if (!found.st.isDirectory()) err(Errno.ENOTDIR, rel.join('/'));
      fs.rmdirSync(this.path(found));
      this.spec.quota.give(entryBytes(found.name!), 1);
    });
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.writable('rename');
    HostBackend.named(from);
    HostBackend.named(to);
    this.at(from, false, (src) =>
      this.at(to, false, (dst) => {
        if (!src.st) err(Errno.ENOENT, from.join('/'));
        // The same file under either name (itself, or a hard link): rename changes nothing.
        if (dst.st && dst.st.dev === src.st.dev && dst.st.ino === src.st.ino) return;
        const cost = renameCost(src.name!, dst.name!, dst.st);
        this.spec.quota.charged(cost.bytes, cost.entries, () => fs.renameSync(this.path(src), this.path(dst)));
      }),
    );
  }
}
