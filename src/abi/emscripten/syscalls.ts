// The module's file syscalls (Emscripten's __syscall_* and WASI fd_*), decoded from linear memory
// and answered by the sandbox's FileTable. Struct layouts are Emscripten's (stat: 96 bytes;
// dirent64 records: 280 bytes). Errors are returned in the Linux numbering MicroPython's errno names.
import { Errno, VfsError } from '../../vfs/errno.js';
import type { OpenFlags, StatInfo } from '../../vfs/types.js';
import type { FileTable } from './file-table.js';
import type { HostHooks } from '../../engine/host.js';
import type { GuestMemory } from '../../engine/memory-view.js';
import { IOV_MAX, readIovecs, type Iovec } from '../../engine/iovecs.js';
import type { FuelMeter } from '../../engine/fuel.js';
import { HOST_WORK_FUEL as FUEL } from '../../engine/host-work.js';
import type { AuditEventKind } from '../../core/audit.js';

/** A read's or write's buffers; EINVAL past IOV_MAX, before any is read. */
function iovecsOf(m: GuestMemory, iovs: number, count: number): Iovec[] {
  const list = readIovecs(m, iovs, count);
  if (!list) throw new VfsError(Errno.EINVAL, `more than ${IOV_MAX} buffers`);
  return list;
}

const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_CREAT = 0x40;
const O_EXCL = 0x80;
const O_TRUNC = 0x200;
const O_APPEND = 0x400;
const O_DIRECTORY = 0x10000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const DIRENT_SIZE = 280;
const DT_DIR = 4;
const DT_REG = 8;

export interface SyscallState {
  memory: GuestMemory;
  hooks: HostHooks;
  files: FileTable;
  /** Host work is charged as fuel (host-work.ts). */
  meter: FuelMeter;
}

type Fn = (...args: any[]) => number;

function openFlags(flags: number): OpenFlags {
  const access = flags & O_ACCMODE;
  return {
    read: access !== O_WRONLY,
    write: access !== 0,
    create: (flags & O_CREAT) !== 0,
    exclusive: (flags & O_EXCL) !== 0,
    truncate: (flags & O_TRUNC) !== 0,
    append: (flags & O_APPEND) !== 0,
    directory: (flags & O_DIRECTORY) !== 0,
  };
}

function writeStat(m: GuestMemory, buf: number, st: StatInfo): void {
  const view = new DataView(m.bytes(buf, 96).buffer, buf, 96);
  new Uint8Array(view.buffer, buf, 96).fill(0);
  const mode = st.kind === 'dir' ? S_IFDIR | 0o755 : S_IFREG | (st.writable ? 0o644 : 0o444);
  view.setUint32(0, 1, true); // dev
  view.setUint32(4, mode, true);
  view.setUint32(8, 1, true); // nlink
  view.setBigInt64(24, BigInt(st.size), true);
  view.setInt32(32, 4096, true);
  view.setInt32(36, Math.ceil(st.size / 512), true);
  const sec = BigInt(Math.floor(st.mtimeMs / 1000));
  const nsec = Math.floor((st.mtimeMs % 1000) * 1e6);
  for (const at of [40, 56, 72]) {
    view.setBigInt64(at, sec, true);
    view.setUint32(at + 8, nsec, true);
  }
  view.setBigInt64(88, BigInt(st.ino), true);
}

/**
 * The audit kind of a refusal the sandbox's grants decided (read-only mount, quota, a link or path
 * leaving a mount, a mount's own root), or null for an ordinary failure (no such file, ...).
 */
function refusalKind(e: VfsError): AuditEventKind | null {
  switch (e.errno) {
    case Errno.ENOSPC:
      return 'quota';
    case Errno.EROFS:
      return 'read-only';
    case Errno.EACCES:
    case Errno.EPERM:
      return e.refusal ?? 'fs-denied';
    default:
      return null;
  }
}

export function fileSyscalls(current: () => SyscallState): { env: Record<string, Fn>; wasi: Record<string, Fn> } {
  // Work of the syscall in progress beyond its base cost, charged when it ends (syscalls do not nest).
  let work = 0;
  /** The last path the syscall in progress read, for its audit event. */
  let lastPath: string | null = null;
  const addWork = (units: number) => (work += units);
  /**
   * Runs a syscall body; a VfsError becomes its errno (negated for __syscall_*, as is for WASI).
   * Anything else (a stop at the output cap, a deadline) goes on through the guest. The base cost is
   * charged first (a guest past its deadline is stopped before more host work), the work done after,
   * failed calls included, once the call's effects are in place.
   */
  const guarded = (negate: boolean, body: () => number): number => {
    current().meter.charge(FUEL.syscall);
    work = 0;
    lastPath = null;
    let result: number;
    try {
      result = body();
    } catch (e) {
      if (!(e instanceof VfsError)) throw e;
      result = negate ? -e.errno : e.errno;
      const kind = refusalKind(e);
      if (kind) current().hooks.refused?.(kind, `${lastPath ?? 'open file'}: ${e.message}`);
    }
    current().meter.charge(work);
    return result;
  };
  const path = (ptr: number) => {
    const p = current().memory.cString(ptr);
    addWork(FUEL.pathByte * p.length);
    lastPath = p;
    return p;
  };
  /** Only paths relative to the cwd or absolute: the libc never passes another directory fd here. */
  const at = (dirfd: number, ptr: number) => {
    const p = path(ptr);
    if (dirfd !== AT_FDCWD && !p.startsWith('/')) throw new VfsError(Errno.EBADF, 'dirfd');
    return p;
  };
  const vfs = () => current().files.vfs;

  const env: Record<string, Fn> = {
    __syscall_openat: (dirfd: number, p: number, flags: number) =>
      guarded(true, () => {
        const f = openFlags(flags);
        const handle = vfs().open(at(dirfd, p), f);
        const fd = current().files.add(handle, f);
        if (handle.kind === 'dir') addWork(FUEL.dirEntry * handle.entries.length);
        return fd;
      }),
    __syscall_stat64: (p: number, buf: number) => guarded(true, () => (writeStat(current().memory, buf, vfs().stat(path(p))), 0)),
    __syscall_lstat64: (p: number, buf: number) => guarded(true, () => (writeStat(current().memory, buf, vfs().stat(path(p))), 0)),
    __syscall_fstat64: (fd: number, buf: number) =>
      guarded(true, () => (writeStat(current().memory, buf, current().files.get(fd).handle.stat()), 0)),
    __syscall_newfstatat: (dirfd: number, p: number, buf: number, flags: number) =>
      guarded(true, () => {
        const st = flags & AT_EMPTY_PATH && path(p) === '' ? current().files.get(dirfd).handle.stat() : vfs().stat(at(dirfd, p));
        writeStat(current().memory, buf, st);
        return 0;
      }),
    __syscall_getdents64: (fd: number, dirp: number, count: number) =>
      guarded(true, () => {
        const file = current().files.get(fd);
        if (file.handle.kind !== 'dir') throw new VfsError(Errno.ENOTDIR, 'getdents');
        const m = current().memory;
        let written = 0;
        const encoder = new TextEncoder();
        while (file.position < file.handle.entries.length && written + DIRENT_SIZE <= count) {
          const entry = file.handle.entries[file.position];
          const name = encoder.encode(entry.name);
          const rec = dirp + written;
          const view = new DataView(m.bytes(rec, DIRENT_SIZE).buffer, rec, DIRENT_SIZE);
          new Uint8Array(view.buffer, rec, DIRENT_SIZE).fill(0);
          view.setBigInt64(0, BigInt(file.position + 1), true);
          view.setBigInt64(8, BigInt(DIRENT_SIZE * (file.position + 1)), true);
          view.setUint16(16, DIRENT_SIZE, true);
          view.setUint8(18, entry.kind === 'dir' ? DT_DIR : DT_REG);
          m.bytes(rec + 19, Math.min(name.length, 255)).set(name.subarray(0, 255));
          written += DIRENT_SIZE;
          file.position++;
        }
        addWork((FUEL.direntRecord * written) / DIRENT_SIZE);
        return written;
      }),
    __syscall_mkdirat: (dirfd: number, p: number) => guarded(true, () => (vfs().mkdir(at(dirfd, p)), 0)),
    __syscall_unlinkat: (dirfd: number, p: number, flags: number) =>
      guarded(true, () => (flags & AT_REMOVEDIR ? vfs().rmdir(at(dirfd, p)) : vfs().unlink(at(dirfd, p)), 0)),
    __syscall_rmdir: (p: number) => guarded(true, () => (vfs().rmdir(path(p)), 0)),
    __syscall_renameat: (oldfd: number, oldp: number, newfd: number, newp: number) =>
      guarded(true, () => (vfs().rename(at(oldfd, oldp), at(newfd, newp)), 0)),
    __syscall_chdir: (p: number) => guarded(true, () => (vfs().chdir(path(p)), 0)),
    __syscall_getcwd: (buf: number, size: number) =>
      guarded(true, () => {
        const cwd = new TextEncoder().encode(vfs().cwd);
        if (size < cwd.length + 1) throw new VfsError(Errno.ERANGE, 'getcwd');
        const out = current().memory.bytes(buf, cwd.length + 1);
        out.set(cwd);
        out[cwd.length] = 0;
        return cwd.length + 1;
      }),
    __syscall_statfs64: (p: number, size: number, buf: number) =>
      guarded(true, () => {
        vfs().stat(path(p));
        const m = current().memory;
        m.bytes(buf, size).fill(0);
        m.setU32(buf + 4, 4096); // f_bsize
        return 0;
      }),
    __syscall_poll: () => 0,
  };

  const wasi: Record<string, Fn> = {
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) =>
      guarded(false, () => {
        const { memory: m, hooks } = current();
        let total = 0;
        const sink = fd === 1 ? hooks.stdout : fd === 2 ? hooks.stderr : null;
        const file = sink ? null : current().files.get(fd);
        if (file && (file.handle.kind !== 'file' || !file.flags.write)) throw new VfsError(Errno.EBADF, 'not open for writing');
        for (const { ptr, len } of iovecsOf(m, iovs, iovsLen)) {
          if (!len) continue;
          const bytes = m.bytes(ptr, len).slice();
          if (sink) sink(bytes);
          else if (file && file.handle.kind === 'file') {
            if (file.flags.append) file.position = file.handle.size();
            file.position += file.handle.write(bytes, file.position);
          }
          total += len;
        }
        addWork((sink ? FUEL.outputByte : FUEL.writeByte) * total);
        m.setU32(nwritten, total);
        return 0;
      }),
    fd_read: (fd: number, iovs: number, iovsLen: number, nread: number) =>
      guarded(false, () => {
        const m = current().memory;
        if (fd === 0) {
          m.setU32(nread, 0); // the sandbox has no stdin
          return 0;
        }
        const file = current().files.get(fd);
        if (file.handle.kind !== 'file') throw new VfsError(Errno.EISDIR, 'read');
        if (!file.flags.read) throw new VfsError(Errno.EBADF, 'not open for reading');
        let total = 0;
        for (const { ptr, len } of iovecsOf(m, iovs, iovsLen)) {
          const into = m.bytes(ptr, len);
          const n = file.handle.read(into, file.position);
          file.position += n;
          total += n;
          if (n < into.length) break;
        }
        addWork(FUEL.readByte * total);
        m.setU32(nread, total);
        return 0;
      }),
    fd_seek: (fd: number, offset: bigint | number, whence: number, newOffset: number) =>
      guarded(false, () => {
        if (fd <= 2) throw new VfsError(Errno.ESPIPE, 'stream');
        const file = current().files.get(fd);
        if (file.handle.kind !== 'file') throw new VfsError(Errno.EISDIR, 'seek');
        const base = whence === 0 ? 0 : whence === 1 ? file.position : whence === 2 ? file.handle.size() : NaN;
        const next = base + Number(offset);
        if (!Number.isSafeInteger(next) || next < 0) throw new VfsError(Errno.EINVAL, 'seek');
        file.position = next;
        const view = new DataView(current().memory.bytes(newOffset, 8).buffer, newOffset, 8);
        view.setBigInt64(0, BigInt(next), true);
        return 0;
      }),
    fd_close: (fd: number) => guarded(false, () => (fd <= 2 ? 0 : (current().files.close(fd), 0))),
    fd_sync: () => 0,
  };
  return { env, wasi };
}
