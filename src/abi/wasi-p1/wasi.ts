// Every wasi_snapshot_preview1 function, over the preopens it was given. Guest memory is only read
// and written through bounds-checked views; every path goes through resolve.ts; every refusal that
// matters for security is reported to `audit`. A thrown WasiError becomes the returned errno;
// anything else (ProcExit, a limit stop) unwinds the guest.
import { randomFillSync } from 'node:crypto';
import { WasiErrno, wasiErrnoOf, WasiError } from '../../vfs/errno.js';
import {
  CLOCK,
  DIR_RIGHTS,
  EVENTTYPE,
  FDFLAGS,
  FILE_RIGHTS,
  FILETYPE,
  FSTFLAGS,
  LOOKUP_SYMLINK_FOLLOW,
  OFLAGS,
  RIGHTS as R,
  STDIN_RIGHTS,
  STDOUT_RIGHTS,
  SUBCLOCK_ABSTIME,
  WHENCE,
} from './constants.js';
import { FdTable, type DirFd, type Fd } from './fd-table.js';
import { EscapeError, resolvePath, type Resolved } from './resolve.js';
import type { Backend, EntryKind, EntryStat } from '../../vfs/types.js';
import { IOV_MAX } from '../../engine/iovecs.js';

export const WASI_MODULE = 'wasi_snapshot_preview1';

/** Entries a directory moved nearer the root may hold: each is checked for symlinks that would climb out. */
const MAX_MOVED_ENTRIES = 10_000;

/** `proc_exit` was called: the run ends with this code. */
export class ProcExit {
  constructor(readonly code: number) {}
}

export type AuditKind = 'path-escape' | 'read-only' | 'quota' | 'symlink-target';

export interface WasiClock {
  realtimeNs(): bigint;
  monotonicNs(): bigint;
  /** Waits (or advances a virtual clock); throws a stop at the deadline. */
  sleep(ms: number): void;
}

export interface WasiContext {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Up to `max` bytes of stdin; empty at its end. May block (within the deadline) or throw a stop. */
  stdin(max: number): Uint8Array;
  /** May throw to stop the guest (output cap). */
  stdout(bytes: Uint8Array): void;
  stderr(bytes: Uint8Array): void;
  preopens: readonly { guest: string; tree: Backend }[];
  clock: WasiClock;
  /** null: the host's cryptographic source. */
  random: ((into: Uint8Array) => void) | null;
  audit(kind: AuditKind, detail: string): void;
  memory(): WebAssembly.Memory;
  /**
   * Called after every call; may throw to stop the guest (the deadline). A call costs the guest
   * little fuel but may cost the host much work, so the deadline cannot wait for a fuel checkpoint.
   */
  checkpoint?(): void;
}


const FILETYPE_OF: Record<EntryKind, number> = {
  file: FILETYPE.REGULAR_FILE,
  dir: FILETYPE.DIRECTORY,
  symlink: FILETYPE.SYMBOLIC_LINK,
  other: FILETYPE.UNKNOWN,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface WasiInstance {
  imports: Record<string, (...args: never[]) => number | void>;
  /** Closes every descriptor the guest left open. */
  close(): void;
}

export function createWasi(ctx: WasiContext): WasiInstance {
  const fds = new FdTable();
  fds.add({ kind: 'stdio', stream: 0, rightsBase: STDIN_RIGHTS, rightsInheriting: 0n, fdflags: 0 });
  fds.add({ kind: 'stdio', stream: 1, rightsBase: STDOUT_RIGHTS, rightsInheriting: 0n, fdflags: 0 });
  fds.add({ kind: 'stdio', stream: 2, rightsBase: STDOUT_RIGHTS, rightsInheriting: 0n, fdflags: 0 });
  for (const p of ctx.preopens) {
    fds.add({ kind: 'dir', tree: p.tree, rel: [], preopen: p.guest, rightsBase: DIR_RIGHTS, rightsInheriting: DIR_RIGHTS | FILE_RIGHTS, fdflags: 0 });
  }
  const startNs = ctx.clock.monotonicNs();

  // Memory access: a fresh view per call, since memory.grow detaches the old buffer.
  const view = () => new DataView(ctx.memory().buffer);
  const bytes = (ptr: number, len: number) => {
    const buf = ctx.memory().buffer;
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) throw new WasiError(WasiErrno.EFAULT, 'out of bounds');
    return new Uint8Array(buf, ptr, len);
  };
  const str = (ptr: number, len: number) => {
    try {
      return decoder.decode(bytes(ptr, len));
    } catch (e) {
      if (e instanceof WasiError) throw e;
      throw new WasiError(WasiErrno.EINVAL, 'path is not UTF-8');
    }
  };
  const u32 = (ptr: number, value: number) => {
    bytes(ptr, 4);
    view().setUint32(ptr, value >>> 0, true);
  };
  const u64 = (ptr: number, value: bigint) => {
    bytes(ptr, 8);
    view().setBigUint64(ptr, BigInt.asUintN(64, value), true);
  };
  const iovecs = (ptr: number, count: number): Uint8Array[] => {
    if (count >>> 0 > IOV_MAX) throw new WasiError(WasiErrno.EINVAL, `more than ${IOV_MAX} iovecs`);
    const raw = bytes(ptr, count * 8);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) out.push(bytes(dv.getUint32(i * 8, true), dv.getUint32(i * 8 + 4, true)));
    return out;
  };

  const writeFilestat = (ptr: number, st: EntryStat) => {
    bytes(ptr, 64).fill(0);
    const dv = view();
    dv.setBigUint64(ptr, st.dev, true);
    dv.setBigUint64(ptr + 8, st.ino, true);
    dv.setUint8(ptr + 16, FILETYPE_OF[st.kind]);
    dv.setBigUint64(ptr + 24, st.nlink, true);
    dv.setBigUint64(ptr + 32, st.size, true);
    dv.setBigUint64(ptr + 40, st.atimNs, true);
    dv.setBigUint64(ptr + 48, st.mtimNs, true);
    dv.setBigUint64(ptr + 56, st.ctimNs, true);
  };

  /** Refusals worth auditing, then the errno. */
  const refusal = (e: unknown, what: string): number => {
    if (e instanceof EscapeError) ctx.audit('path-escape', `${what}: ${e.path}`);
    const errno = wasiErrnoOf(e);
    if (errno === null) throw e;
    if (errno === WasiErrno.EROFS) ctx.audit('read-only', what);
    if (errno === WasiErrno.ENOSPC) ctx.audit('quota', what);
    return errno;
  };

  /** Wraps a call: a WasiError (or a host fs error) is its errno; anything else unwinds the guest. */
  const call =
    <A extends unknown[]>(name: string, fn: (...args: A) => number | void) =>
    (...args: A): number => {
      let errno: number;
      try {
        errno = fn(...args) ?? WasiErrno.ESUCCESS;
      } catch (e) {
        errno = refusal(e, name);
      }
      ctx.checkpoint?.();
      return errno;
    };

  const resolveAt = (dirfd: number, ptr: number, len: number, follow: boolean, right: bigint): { dir: DirFd; r: Resolved; path: string } => {
    const dir = fds.dir(dirfd, right);
    const path = str(ptr, len);
    try {
      return { dir, r: resolvePath(dir.tree, dir.rel, path, follow), path };
    } catch (e) {
      if (e instanceof EscapeError) ctx.audit('path-escape', path);
      throw e instanceof EscapeError ? new WasiError(WasiErrno.EPERM, e.message) : e;
    }
  };

  const nowNs = (id: number): bigint => {
    switch (id) {
      case CLOCK.REALTIME:
        return ctx.clock.realtimeNs();
      case CLOCK.MONOTONIC:
        return ctx.clock.monotonicNs();
      case CLOCK.PROCESS_CPUTIME:
      case CLOCK.THREAD_CPUTIME:
        return ctx.clock.monotonicNs() - startNs;
      default:
        throw new WasiError(WasiErrno.EINVAL, `clock ${id}`);
    }
  };

  const list = (tree: Backend, rel: string[]) => {
    const self = tree.lstat(rel);
    const parent = rel.length ? tree.lstat(rel.slice(0, -1)) : self;
    const entries = tree.list(rel).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [{ name: '.', kind: 'dir' as EntryKind, ino: self.ino }, { name: '..', kind: 'dir' as EntryKind, ino: parent.ino }, ...entries];
  };

  const readInto = (fd: Fd, bufs: Uint8Array[], at: number | null): number => {
    if (fd.kind === 'stdio') {
      if (fd.stream !== 0) throw new WasiError(WasiErrno.EBADF, 'not readable');
      // One read per call, like a pipe: what is available now, into the first buffers.
      const total = bufs.reduce((n, b) => n + b.length, 0);
      const chunk = total ? ctx.stdin(total) : new Uint8Array(0);
      let at = 0;
      for (const b of bufs) {
        const part = chunk.subarray(at, at + b.length);
        b.set(part);
        at += part.length;
        if (at >= chunk.length) break;
      }
      return chunk.length;
    }
    if (fd.kind !== 'file') throw new WasiError(WasiErrno.EISDIR, 'directory');
    let pos = at ?? fd.position;
    let n = 0;
    for (const b of bufs) {
      if (b.length === 0) continue;
      const got = fd.file.read(b, pos);
      pos += got;
      n += got;
      if (got < b.length) break;
    }
    if (at === null) fd.position = pos;
    return n;
  };

  const writeFrom = (fd: Fd, bufs: Uint8Array[], at: number | null): number => {
    if (fd.kind === 'stdio') {
      if (fd.stream === 0) throw new WasiError(WasiErrno.EBADF, 'not writable');
      let n = 0;
      for (const b of bufs) {
        if (!b.length) continue;
        const copy = b.slice(); // the guest may change its buffer after the call
        if (fd.stream === 1) ctx.stdout(copy);
        else ctx.stderr(copy);
        n += b.length;
      }
      return n;
    }
    if (fd.kind !== 'file') throw new WasiError(WasiErrno.EISDIR, 'directory');
    const append = at === null && (fd.fdflags & FDFLAGS.APPEND) !== 0;
    let pos = append ? Number(fd.file.entryStat().size) : (at ?? fd.position);
    let n = 0;
    for (const b of bufs) {
      if (!b.length) continue;
      const wrote = fd.file.write(b, pos);
      pos += wrote;
      n += wrote;
    }
    if (at === null) fd.position = pos;
    return n;
  };

  const imports = {
    args_get: call('args_get', (argv: number, buf: number) => {
      for (const a of ctx.args) {
        const b = encoder.encode(a + '\0');
        u32(argv, buf);
        bytes(buf, b.length).set(b);
        argv += 4;
        buf += b.length;
      }
    }),
    args_sizes_get: call('args_sizes_get', (count: number, size: number) => {
      u32(count, ctx.args.length);
      u32(size, ctx.args.reduce((n, a) => n + encoder.encode(a).length + 1, 0));
    }),
    environ_get: call('environ_get', (environ: number, buf: number) => {
      for (const [k, v] of Object.entries(ctx.env)) {
        const b = encoder.encode(`${k}=${v}\0`);
        u32(environ, buf);
        bytes(buf, b.length).set(b);
        environ += 4;
        buf += b.length;
      }
    }),
    environ_sizes_get: call('environ_sizes_get', (count: number, size: number) => {
      const entries = Object.entries(ctx.env);
      u32(count, entries.length);
      u32(size, entries.reduce((n, [k, v]) => n + encoder.encode(`${k}=${v}`).length + 1, 0));
    }),
    clock_res_get: call('clock_res_get', (id: number, out: number) => {
      nowNs(id);
      u64(out, 1000n);
    }),
    clock_time_get: call('clock_time_get', (id: number, _precision: bigint, out: number) => {
      u64(out, nowNs(id));
    }),
    fd_advise: call('fd_advise', (fd: number, _offset: bigint, _len: bigint, advice: number) => {
      fds.file(fd, R.FD_ADVISE);
      if (advice > 5) throw new WasiError(WasiErrno.EINVAL, 'advice');
    }),
    fd_allocate: call('fd_allocate', (fd: number, offset: bigint, len: bigint) => {
      const f = fds.file(fd, R.FD_ALLOCATE);
      const end = Number(offset + len);
      if (!Number.isSafeInteger(end)) throw new WasiError(WasiErrno.EFBIG, 'too large');
      if (end > Number(f.file.entryStat().size)) f.file.truncate(end);
    }),
    fd_close: call('fd_close', (fd: number) => fds.close(fd)),
    fd_datasync: call('fd_datasync', (fd: number) => fds.file(fd, R.FD_DATASYNC).file.sync()),
    fd_sync: call('fd_sync', (fd: number) => {
      const f = fds.get(fd, R.FD_SYNC);
      if (f.kind === 'file') f.file.sync();
    }),
    fd_fdstat_get: call('fd_fdstat_get', (fd: number, out: number) => {
      const f = fds.get(fd);
      const type = f.kind === 'stdio' ? FILETYPE.CHARACTER_DEVICE : f.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE;
      bytes(out, 24).fill(0);
      const dv = view();
      dv.setUint8(out, type);
      dv.setUint16(out + 2, f.fdflags, true);
      dv.setBigUint64(out + 8, f.rightsBase, true);
      dv.setBigUint64(out + 16, f.rightsInheriting, true);
    }),
    fd_fdstat_set_flags: call('fd_fdstat_set_flags', (fd: number, flags: number) => {
      const f = fds.get(fd, R.FD_FDSTAT_SET_FLAGS);
      if (flags & ~0x1f) throw new WasiError(WasiErrno.EINVAL, 'flags');
      f.fdflags = flags;
    }),
    fd_fdstat_set_rights: call('fd_fdstat_set_rights', (fd: number, base: bigint, inheriting: bigint) => {
      const f = fds.get(fd);
      if ((base & ~f.rightsBase) !== 0n || (inheriting & ~f.rightsInheriting) !== 0n) throw new WasiError(WasiErrno.ENOTCAPABLE, 'rights only shrink');
      f.rightsBase = base;
      f.rightsInheriting = inheriting;
    }),
    fd_filestat_get: call('fd_filestat_get', (fd: number, out: number) => {
      const f = fds.get(fd, R.FD_FILESTAT_GET);
      if (f.kind === 'stdio') {
        writeFilestat(out, { kind: 'other', size: 0n, dev: 0n, ino: 0n, nlink: 1n, atimNs: 0n, mtimNs: 0n, ctimNs: 0n });
        view().setUint8(out + 16, FILETYPE.CHARACTER_DEVICE);
        return;
      }
      writeFilestat(out, f.kind === 'file' ? f.file.entryStat() : f.tree.lstat(f.rel));
    }),
    fd_filestat_set_size: call('fd_filestat_set_size', (fd: number, size: bigint) => {
      const f = fds.file(fd, R.FD_FILESTAT_SET_SIZE);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new WasiError(WasiErrno.EFBIG, 'too large');
      f.file.truncate(Number(size));
    }),
    fd_filestat_set_times: call('fd_filestat_set_times', (fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const f = fds.get(fd, R.FD_FILESTAT_SET_TIMES);
      const [a, m] = times(atim, mtim, flags);
      if (f.kind === 'file') f.file.setTimes(a, m);
      else if (f.kind === 'dir') f.tree.setTimes(f.rel, a, m);
      else throw new WasiError(WasiErrno.EBADF, 'stdio');
    }),
    fd_pread: call('fd_pread', (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const f = fds.get(fd, R.FD_READ | R.FD_SEEK);
      if (f.kind === 'stdio') throw new WasiError(WasiErrno.ESPIPE, 'stdio');
      u32(out, readInto(f, iovecs(iovs, count), Number(offset)));
    }),
    fd_pwrite: call('fd_pwrite', (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
      const f = fds.get(fd, R.FD_WRITE | R.FD_SEEK);
      if (f.kind === 'stdio') throw new WasiError(WasiErrno.ESPIPE, 'stdio');
      u32(out, writeFrom(f, iovecs(iovs, count), Number(offset)));
    }),
    fd_read: call('fd_read', (fd: number, iovs: number, count: number, out: number) => {
      u32(out, readInto(fds.get(fd, R.FD_READ), iovecs(iovs, count), null));
    }),
    fd_write: call('fd_write', (fd: number, iovs: number, count: number, out: number) => {
      u32(out, writeFrom(fds.get(fd, R.FD_WRITE), iovecs(iovs, count), null));
    }),
    fd_prestat_get: call('fd_prestat_get', (fd: number, out: number) => {
      const f = fds.get(fd);
      if (f.kind !== 'dir' || f.preopen === null) throw new WasiError(WasiErrno.EBADF, 'not a preopen');
      bytes(out, 8).fill(0);
      u32(out + 4, encoder.encode(f.preopen).length);
    }),
    fd_prestat_dir_name: call('fd_prestat_dir_name', (fd: number, ptr: number, len: number) => {
      const f = fds.get(fd);
      if (f.kind !== 'dir' || f.preopen === null) throw new WasiError(WasiErrno.EBADF, 'not a preopen');
      const name = encoder.encode(f.preopen);
      if (len < name.length) throw new WasiError(WasiErrno.ENAMETOOLONG, 'buffer');
      bytes(ptr, name.length).set(name);
    }),
    fd_readdir: call('fd_readdir', (fd: number, buf: number, len: number, cookie: bigint, out: number) => {
      const d = fds.dir(fd, R.FD_READDIR);
      const entries = list(d.tree, d.rel);
      const target = bytes(buf, len);
      let used = 0;
      for (let i = Number(cookie); i < entries.length && used < len; i++) {
        const e = entries[i];
        const name = encoder.encode(e.name);
        const record = new Uint8Array(24 + name.length);
        const dv = new DataView(record.buffer);
        dv.setBigUint64(0, BigInt(i + 1), true);
        dv.setBigUint64(8, e.ino, true);
        dv.setUint32(16, name.length, true);
        dv.setUint8(20, FILETYPE_OF[e.kind]);
        record.set(name, 24);
        const n = Math.min(record.length, len - used);
        target.set(record.subarray(0, n), used);
        used += n;
      }
      u32(out, used);
    }),
    fd_renumber: call('fd_renumber', (from: number, to: number) => fds.renumber(from, to)),
    fd_seek: call('fd_seek', (fd: number, offset: bigint, whence: number, out: number) => {
      const f = fds.get(fd);
      if (f.kind !== 'file') throw new WasiError(f.kind === 'stdio' ? WasiErrno.ESPIPE : WasiErrno.EBADF, 'not seekable');
      if ((f.rightsBase & R.FD_SEEK) === 0n && !(offset === 0n && whence === WHENCE.CUR && (f.rightsBase & R.FD_TELL))) {
        throw new WasiError(WasiErrno.ENOTCAPABLE, 'no seek right');
      }
      const base = whence === WHENCE.SET ? 0 : whence === WHENCE.CUR ? f.position : whence === WHENCE.END ? Number(f.file.entryStat().size) : NaN;
      if (Number.isNaN(base)) throw new WasiError(WasiErrno.EINVAL, 'whence');
      const next = base + Number(offset);
      if (next < 0) throw new WasiError(WasiErrno.EINVAL, 'negative position');
      f.position = next;
      u64(out, BigInt(next));
    }),
    fd_tell: call('fd_tell', (fd: number, out: number) => {
      const f = fds.get(fd, R.FD_TELL);
      if (f.kind !== 'file') throw new WasiError(f.kind === 'stdio' ? WasiErrno.ESPIPE : WasiErrno.EBADF, 'not seekable');
      u64(out, BigInt(f.position));
    }),
    path_create_directory: call('path_create_directory', (fd: number, ptr: number, len: number) => {
      const { dir, r } = resolveAt(fd, ptr, len, false, R.PATH_CREATE_DIRECTORY);
      if (r.stat) throw new WasiError(WasiErrno.EEXIST, 'exists');
      dir.tree.mkdir(r.rel);
    }),
    path_filestat_get: call('path_filestat_get', (fd: number, flags: number, ptr: number, len: number, out: number) => {
      const { r } = resolveAt(fd, ptr, len, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0, R.PATH_FILESTAT_GET);
      if (!r.stat) throw new WasiError(WasiErrno.ENOENT, 'no such file');
      writeFilestat(out, r.stat);
    }),
    path_filestat_set_times: call('path_filestat_set_times', (fd: number, flags: number, ptr: number, len: number, atim: bigint, mtim: bigint, fst: number) => {
      const [a, m] = times(atim, mtim, fst);
      const { dir, r } = resolveAt(fd, ptr, len, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0, R.PATH_FILESTAT_SET_TIMES);
      if (!r.stat) throw new WasiError(WasiErrno.ENOENT, 'no such file');
      dir.tree.setTimes(r.rel, a, m);
    }),
    path_link: call('path_link', (oldFd: number, oldFlags: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const from = resolveAt(oldFd, oldPtr, oldLen, (oldFlags & LOOKUP_SYMLINK_FOLLOW) !== 0, R.PATH_LINK_SOURCE);
      const to = resolveAt(newFd, newPtr, newLen, false, R.PATH_LINK_TARGET);
      if (from.dir.tree !== to.dir.tree) throw new WasiError(WasiErrno.EXDEV, 'across preopens');
      if (!from.r.stat) throw new WasiError(WasiErrno.ENOENT, 'no source');
      if (from.r.stat.kind === 'dir') throw new WasiError(WasiErrno.EPERM, 'a directory');
      if (to.r.stat) throw new WasiError(WasiErrno.EEXIST, 'target exists');
      if (to.r.dirOnly || from.r.dirOnly) throw new WasiError(WasiErrno.ENOENT, 'trailing slash');
      staysInside(from.dir.tree, from.r.rel, from.r.stat.kind, to.r.rel);
      from.dir.tree.link(from.r.rel, to.r.rel);
    }),
    path_open: call('path_open', (fd: number, dirflags: number, ptr: number, len: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, out: number) => {
      const creat = (oflags & OFLAGS.CREAT) !== 0;
      const excl = (oflags & OFLAGS.EXCL) !== 0;
      const follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0 && !(creat && excl);
      const needed = R.PATH_OPEN | (creat ? R.PATH_CREATE_FILE : 0n) | (oflags & OFLAGS.TRUNC ? R.PATH_FILESTAT_SET_SIZE : 0n);
      const { dir, r } = resolveAt(fd, ptr, len, follow, needed);
      const rightsBase = base & dir.rightsInheriting;
      const rightsInheriting = inheriting & dir.rightsInheriting;
      const write = (base & (R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE)) !== 0n || (oflags & OFLAGS.TRUNC) !== 0;
      const read = (base & (R.FD_READ | R.FD_READDIR)) !== 0n || !write;
      if (r.stat) {
        if (creat && excl) throw new WasiError(WasiErrno.EEXIST, 'exists');
        if (r.stat.kind === 'symlink') throw new WasiError(WasiErrno.ELOOP, 'a symlink');
        if (r.stat.kind === 'dir') {
          if (write && (base & R.FD_WRITE) !== 0n) throw new WasiError(WasiErrno.EISDIR, 'a directory');
          if (oflags & OFLAGS.TRUNC) throw new WasiError(WasiErrno.EISDIR, 'a directory');
          u32(out, fds.add({ kind: 'dir', tree: dir.tree, rel: r.rel, preopen: null, rightsBase: rightsBase & DIR_RIGHTS, rightsInheriting, fdflags }));
          return;
        }
        if (oflags & OFLAGS.DIRECTORY || r.dirOnly) throw new WasiError(WasiErrno.ENOTDIR, 'not a directory');
        if (r.stat.kind !== 'file') throw new WasiError(WasiErrno.EACCES, 'not a regular file');
      } else {
        if (!creat) throw new WasiError(WasiErrno.ENOENT, 'no such file');
        if (oflags & OFLAGS.DIRECTORY) throw new WasiError(WasiErrno.EINVAL, 'creat with directory');
        if (r.dirOnly) throw new WasiError(WasiErrno.EISDIR, 'trailing slash');
      }
      const file = dir.tree.openFile(r.rel, { read, write, create: creat, exclusive: creat && excl, truncate: (oflags & OFLAGS.TRUNC) !== 0 });
      try {
        u32(out, fds.add({ kind: 'file', tree: dir.tree, rel: r.rel, file, position: 0, rightsBase: rightsBase & FILE_RIGHTS, rightsInheriting, fdflags }));
      } catch (e) {
        file.close();
        throw e;
      }
    }),
    path_readlink: call('path_readlink', (fd: number, ptr: number, len: number, buf: number, bufLen: number, out: number) => {
      const { dir, r } = resolveAt(fd, ptr, len, false, R.PATH_READLINK);
      if (!r.stat) throw new WasiError(WasiErrno.ENOENT, 'no such file');
      if (r.stat.kind !== 'symlink') throw new WasiError(WasiErrno.EINVAL, 'not a symlink');
      const target = encoder.encode(dir.tree.readlink(r.rel));
      const n = Math.min(target.length, bufLen);
      bytes(buf, n).set(target.subarray(0, n));
      u32(out, n);
    }),
    path_remove_directory: call('path_remove_directory', (fd: number, ptr: number, len: number) => {
      const { dir, r } = resolveAt(fd, ptr, len, false, R.PATH_REMOVE_DIRECTORY);
      if (!r.stat) throw new WasiError(WasiErrno.ENOENT, 'no such directory');
      if (r.stat.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, 'not a directory');
      if (r.rel.length <= dir.rel.length) throw new WasiError(WasiErrno.EINVAL, 'the directory itself');
      dir.tree.rmdir(r.rel);
    }),
    path_rename: call('path_rename', (fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number) => {
      const from = resolveAt(fd, oldPtr, oldLen, false, R.PATH_RENAME_SOURCE);
      const to = resolveAt(newFd, newPtr, newLen, false, R.PATH_RENAME_TARGET);
      if (from.dir.tree !== to.dir.tree) throw new WasiError(WasiErrno.EXDEV, 'across preopens');
      if (!from.r.stat) throw new WasiError(WasiErrno.ENOENT, 'no source');
      if (from.r.stat.kind !== 'dir' && (from.r.dirOnly || to.r.dirOnly)) throw new WasiError(WasiErrno.ENOTDIR, 'trailing slash on a file');
      if (to.r.stat) {
        if (from.r.stat.kind === 'dir' && to.r.stat.kind !== 'dir') throw new WasiError(WasiErrno.ENOTDIR, 'target is not a directory');
        if (from.r.stat.kind !== 'dir' && to.r.stat.kind === 'dir') throw new WasiError(WasiErrno.EISDIR, 'target is a directory');
      }
      if (from.r.rel.length <= from.dir.rel.length || to.r.rel.length <= to.dir.rel.length) throw new WasiError(WasiErrno.EBUSY, 'the directory itself');
      staysInside(from.dir.tree, from.r.rel, from.r.stat.kind, to.r.rel);
      from.dir.tree.rename(from.r.rel, to.r.rel);
    }),
    path_symlink: call('path_symlink', (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number) => {
      const target = str(oldPtr, oldLen);
      const { dir, r } = resolveAt(fd, newPtr, newLen, false, R.PATH_SYMLINK);
      placeLink(target, r.rel.length - 1);
      if (r.stat) throw new WasiError(WasiErrno.EEXIST, 'exists');
      if (r.dirOnly) throw new WasiError(WasiErrno.ENOENT, 'trailing slash');
      dir.tree.symlink(target, r.rel);
    }),
    path_unlink_file: call('path_unlink_file', (fd: number, ptr: number, len: number) => {
      const { dir, r } = resolveAt(fd, ptr, len, false, R.PATH_UNLINK_FILE);
      if (!r.stat) throw new WasiError(WasiErrno.ENOENT, 'no such file');
      if (r.stat.kind === 'dir') throw new WasiError(WasiErrno.EISDIR, 'a directory');
      if (r.dirOnly) throw new WasiError(WasiErrno.ENOTDIR, 'trailing slash');
      dir.tree.unlink(r.rel);
    }),
    poll_oneoff: call('poll_oneoff', (inPtr: number, outPtr: number, count: number, neventsPtr: number) => {
      if (count === 0) throw new WasiError(WasiErrno.EINVAL, 'no subscriptions');
      const subs = bytes(inPtr, count * 48).slice();
      bytes(outPtr, count * 32);
      const dv = new DataView(subs.buffer);
      const ready: { userdata: bigint; error: number; type: number; nbytes: bigint }[] = [];
      let wakeNs: bigint | null = null;
      let timer: { userdata: bigint } | null = null;
      for (let i = 0; i < count; i++) {
        if ((i & 4095) === 4095) ctx.checkpoint?.(); // a million subscriptions take the host ~0.5 s
        const o = i * 48;
        const userdata = dv.getBigUint64(o, true);
        const type = dv.getUint8(o + 8);
        if (type === EVENTTYPE.CLOCK) {
          const id = dv.getUint32(o + 16, true);
          const timeout = dv.getBigUint64(o + 24, true);
          const abs = (dv.getUint16(o + 40, true) & SUBCLOCK_ABSTIME) !== 0;
          let now: bigint;
          try {
            now = nowNs(id);
          } catch (e) {
            ready.push({ userdata, error: wasiErrnoOf(e) ?? WasiErrno.EINVAL, type, nbytes: 0n });
            continue;
          }
          const wait = abs ? timeout - now : timeout;
          if (wakeNs === null || wait < wakeNs) {
            wakeNs = wait;
            timer = { userdata };
          }
        } else if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
          const n = dv.getUint32(o + 16, true);
          let error: number = WasiErrno.ESUCCESS;
          let nbytes = 0n;
          try {
            const f = fds.get(n, R.POLL_FD_READWRITE);
            if (f.kind === 'dir') error = WasiErrno.EBADF;
            else if (type === EVENTTYPE.FD_READ && f.kind === 'file') nbytes = f.file.entryStat().size - BigInt(f.position);
          } catch (e) {
            error = wasiErrnoOf(e) ?? WasiErrno.EBADF;
          }
          ready.push({ userdata, error, type, nbytes: nbytes < 0n ? 0n : nbytes });
        } else {
          throw new WasiError(WasiErrno.EINVAL, 'event type');
        }
      }
      if (ready.length === 0 && timer && wakeNs !== null) {
        if (wakeNs > 0n) ctx.clock.sleep(Number(wakeNs) / 1e6);
        ready.push({ userdata: timer.userdata, error: WasiErrno.ESUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n });
      }
      const ov = view();
      ready.forEach((ev, i) => {
        const o = outPtr + i * 32;
        bytes(o, 32).fill(0);
        ov.setBigUint64(o, ev.userdata, true);
        ov.setUint16(o + 8, ev.error, true);
        ov.setUint8(o + 10, ev.type);
        ov.setBigUint64(o + 16, ev.nbytes, true);
      });
      u32(neventsPtr, ready.length);
    }),
    proc_exit: (code: number) => {
      throw new ProcExit(code >>> 0);
    },
    proc_raise: call('proc_raise', () => {
      throw new WasiError(WasiErrno.ENOSYS, 'signals');
    }),
    sched_yield: call('sched_yield', () => {}),
    random_get: call('random_get', (ptr: number, len: number) => {
      const target = bytes(ptr, len);
      if (ctx.random) ctx.random(target);
      else for (let at = 0; at < len; at += 65536) randomFillSync(target.subarray(at, Math.min(len, at + 65536)));
    }),
    sock_accept: call('sock_accept', (fd: number) => notSocket(fd)),
    sock_recv: call('sock_recv', (fd: number) => notSocket(fd)),
    sock_send: call('sock_send', (fd: number) => notSocket(fd)),
    sock_shutdown: call('sock_shutdown', (fd: number) => notSocket(fd)),
  };

  /**
   * A symlink whose target leaves the tree would never be followed here, but it would stay on the
   * host for whoever reads the directory next: one the guest creates, or moves or links to a
   * directory `depth` levels under the tree's root, must lead inside from there.
   */
  function placeLink(target: string, depth: number): void {
    if (target.startsWith('/') || leavesTree(depth, target)) {
      ctx.audit('symlink-target', target);
      throw new WasiError(WasiErrno.EPERM, 'symlink target outside the tree');
    }
  }

  /**
   * Before `from` (of `kind`) is renamed or linked to `to` (F7): a symlink is checked where it ends
   * up; a directory moved nearer the root takes the symlinks under it along, so each is checked at
   * its new depth (absolute ones already pointed where they point, wherever they are).
   */
  function staysInside(tree: Backend, from: string[], kind: EntryKind, to: string[]): void {
    if (kind === 'symlink') return placeLink(tree.readlink(from), to.length - 1);
    if (kind !== 'dir' || to.length >= from.length) return;
    let seen = 0;
    const walk = (rel: string[], depth: number): void => {
      for (const e of tree.list(rel)) {
        if (++seen > MAX_MOVED_ENTRIES) throw new WasiError(WasiErrno.EPERM, `a directory of more than ${MAX_MOVED_ENTRIES} entries moved nearer the root`);
        if (e.kind === 'dir') walk([...rel, e.name], depth + 1);
        else if (e.kind === 'symlink') {
          const target = tree.readlink([...rel, e.name]);
          if (!target.startsWith('/')) placeLink(target, depth);
        }
      }
    };
    walk(from, to.length);
  }

  /** Does `target`, read from a directory `depth` levels under the tree's root, climb above it? */
  function leavesTree(depth: number, target: string): boolean {
    for (const part of target.split('/')) {
      if (part === '..') depth--;
      else if (part !== '' && part !== '.') depth++;
      if (depth < 0) return true;
    }
    return false;
  }

  function notSocket(fd: number): never {
    fds.get(fd);
    throw new WasiError(WasiErrno.ENOTSOCK, 'no sockets');
  }

  function times(atim: bigint, mtim: bigint, flags: number): [bigint | null, bigint | null] {
    if ((flags & FSTFLAGS.ATIM && flags & FSTFLAGS.ATIM_NOW) || (flags & FSTFLAGS.MTIM && flags & FSTFLAGS.MTIM_NOW) || flags & ~0xf) {
      throw new WasiError(WasiErrno.EINVAL, 'fstflags');
    }
    const now = ctx.clock.realtimeNs();
    const a = flags & FSTFLAGS.ATIM ? atim : flags & FSTFLAGS.ATIM_NOW ? now : null;
    const m = flags & FSTFLAGS.MTIM ? mtim : flags & FSTFLAGS.MTIM_NOW ? now : null;
    return [a, m];
  }

  return { imports: imports as unknown as WasiInstance['imports'], close: () => fds.closeAll() };
}
