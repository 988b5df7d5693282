// A host directory mounted into the sandbox. Every path is resolved here, one component at a time
// with lstat: a symlink is followed only when its target (after every further link) stays inside
// the mount; files are opened with O_NOFOLLOW and then checked again through /proc/self/fd, so a
// directory swapped for a symlink between the check and the open (a rename race) cannot lead
// outside. Only regular files and directories are visible: no devices, FIFOs or sockets.
import * as fs from 'node:fs';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { Errno, VfsError } from './errno.js';
import type { Backend, FileHandle, Handle, OpenFlags, Quota, StatInfo } from './types.js';

const MAX_LINKS = 32;

function err(errno: number, what: string): never {
  throw new VfsError(errno, what);
}

/** Host errors as guest errno values; anything unexpected is EIO, never a host message. */
function fromHost(e: unknown): never {
  if (e instanceof VfsError) throw e;
  const code = (e as NodeJS.ErrnoException).code;
  const errno =
    (
      {
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
      } as Record<string, number>
    )[code ?? ''] ?? Errno.EIO;
  throw new VfsError(errno, code ?? 'host error');
}

/** A host fs call whose failure is the guest's OSError, never a host exception through the guest. */
function host<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    return fromHost(e);
  }
}

export interface MountSpec {
  host: string;
  mode: 'ro' | 'rw';
  quota: Quota;
}

export class HostBackend implements Backend {
  private readonly root: string;

  constructor(private readonly spec: MountSpec) {
    try {
      this.root = fs.realpathSync(spec.host);
      if (!fs.statSync(this.root).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new Error(`cannot mount ${spec.host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  private inside(hostPath: string): boolean {
    return hostPath === this.root || hostPath.startsWith(this.root + sep);
  }

  /**
   * The host path of `rel`, every component checked. `missingLastOk`: the last component may not
   * exist (creating it); its parent must.
   */
  private resolve(rel: readonly string[], missingLastOk = false): string {
    let current = this.root;
    let links = 0;
    const pending = [...rel];
    while (pending.length) {
      const part = pending.shift()!;
      const next = join(current, part);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(next);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && missingLastOk && pending.length === 0) return next;
        return fromHost(e);
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) err(Errno.ELOOP, 'too many links');
        const target = host(() => fs.readlinkSync(next)); // may have changed since the lstat: checked again below
        const absolute = isAbsolute(target) ? target : resolve(current, target);
        if (!this.inside(absolute)) err(Errno.EACCES, 'link leaves the mount');
        // Continue from the mount root with the target's components: each one is checked again.
        pending.unshift(...relative(this.root, absolute).split(sep).filter((p) => p !== '' && p !== '.'));
        current = this.root;
        continue;
      }
      if (!st.isFile() && !st.isDirectory()) err(Errno.EACCES, 'not a regular file or directory');
      if (pending.length && !st.isDirectory()) err(Errno.ENOTDIR, part);
      current = next;
    }
    if (!this.inside(current)) err(Errno.EACCES, 'outside the mount');
    return current;
  }

  /** After opening: the file really is inside the mount and is a file or directory. */
  private verifyOpened(fd: number): fs.Stats {
    let real: string;
    try {
      real = fs.realpathSync(`/proc/self/fd/${fd}`);
    } catch {
      fs.closeSync(fd);
      return err(Errno.EACCES, 'cannot verify the opened file');
    }
    const st = host(() => fs.fstatSync(fd));
    if (!this.inside(real) || (!st.isFile() && !st.isDirectory())) {
      fs.closeSync(fd);
      err(Errno.EACCES, 'opened file is outside the mount');
    }
    return st;
  }

  private static info(st: fs.Stats, writable: boolean): StatInfo {
    return { kind: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs, ino: st.ino, writable };
  }

  /** EACCES rather than EROFS: MicroPython's errno module names the former only. */
  private writable(what: string): void {
    if (this.spec.mode !== 'rw') err(Errno.EACCES, `${what}: read-only mount`);
  }

  private grow(bytes: number): void {
    const q = this.spec.quota;
    if (bytes > 0 && q.bytes + bytes > q.maxBytes) err(Errno.ENOSPC, 'mount quota');
    q.bytes += bytes;
  }

  stat(rel: readonly string[]): StatInfo {
    const path = this.resolve(rel);
    try {
      return HostBackend.info(fs.statSync(path), this.spec.mode === 'rw');
    } catch (e) {
      return fromHost(e);
    }
  }

  open(rel: readonly string[], flags: OpenFlags): Handle {
    if (flags.write || flags.create || flags.truncate) this.writable('open for writing');
    const path = this.resolve(rel, flags.create);
    const C = fs.constants;
    let mode = (flags.write ? (flags.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY) | C.O_NOFOLLOW;
    if (flags.create) mode |= C.O_CREAT;
    if (flags.exclusive) mode |= C.O_EXCL;
    if (flags.directory) mode |= C.O_DIRECTORY;
    let fd: number;
    try {
      fd = fs.openSync(path, mode | C.O_NONBLOCK, 0o644);
    } catch (e) {
      return fromHost(e);
    }
    const st = this.verifyOpened(fd);
    const writable = this.spec.mode === 'rw';
    if (st.isDirectory()) {
      fs.closeSync(fd);
      if (flags.write) err(Errno.EISDIR, rel.join('/'));
      return {
        kind: 'dir',
        entries: host(() => this.list(path)),
        stat: () => HostBackend.info(st, writable),
        close: () => {},
      };
    }
    if (flags.directory) {
      fs.closeSync(fd);
      err(Errno.ENOTDIR, rel.join('/'));
    }
    if (flags.truncate && flags.write && st.size > 0) {
      this.grow(-st.size);
      host(() => fs.ftruncateSync(fd, 0));
    }
    let open = true;
    const handle: FileHandle = {
      kind: 'file',
      read: (into, position) => (into.length ? host(() => fs.readSync(fd, into, 0, into.length, position)) : 0),
      write: (bytes, position) => {
        const size = host(() => fs.fstatSync(fd)).size;
        this.grow(Math.max(0, position + bytes.length - size));
        return host(() => fs.writeSync(fd, bytes, 0, bytes.length, position));
      },
      size: () => host(() => fs.fstatSync(fd)).size,
      stat: () => HostBackend.info(host(() => fs.fstatSync(fd)), writable),
      close: () => {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
    return handle;
  }

  private list(dir: string): { name: string; kind: 'file' | 'dir' }[] {
    const out: { name: string; kind: 'file' | 'dir' }[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile()) out.push({ name: e.name, kind: 'file' });
      else if (e.isDirectory()) out.push({ name: e.name, kind: 'dir' });
      else if (e.isSymbolicLink()) {
        try {
          const target = this.resolve([...relative(this.root, dir).split(sep).filter(Boolean), e.name]);
          out.push({ name: e.name, kind: fs.statSync(target).isDirectory() ? 'dir' : 'file' });
        } catch {
          // a link leading outside the mount, or to nothing: not shown
        }
      }
    }
    return out;
  }

  mkdir(rel: readonly string[]): void {
    this.writable('mkdir');
    const path = this.resolve(rel, true);
    try {
      fs.mkdirSync(path);
    } catch (e) {
      fromHost(e);
    }
  }

  unlink(rel: readonly string[]): void {
    this.writable('remove');
    const path = this.parentResolved(rel);
    try {
      const st = fs.lstatSync(path);
      if (st.isDirectory()) err(Errno.EISDIR, rel.join('/'));
      fs.unlinkSync(path);
      if (st.isFile()) this.grow(-st.size);
    } catch (e) {
      fromHost(e);
    }
  }

  rmdir(rel: readonly string[]): void {
    this.writable('rmdir');
    const path = this.parentResolved(rel);
    try {
      fs.rmdirSync(path);
    } catch (e) {
      fromHost(e);
    }
  }

  rename(from: readonly string[], to: readonly string[]): void {
    this.writable('rename');
    const src = this.parentResolved(from);
    const dst = this.parentResolved(to);
    try {
      fs.renameSync(src, dst);
    } catch (e) {
      fromHost(e);
    }
  }

  /** For operations on a name itself (remove, rename): its directory resolved, the name as given. */
  private parentResolved(rel: readonly string[]): string {
    if (rel.length === 0) err(Errno.EACCES, "the mount root itself");
    return join(this.resolve(rel.slice(0, -1)), rel[rel.length - 1]);
  }
}
