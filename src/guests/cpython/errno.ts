// The VFS answers in Linux errno numbers (what MicroPython's errno module names); CPython's libc is
// Emscripten's musl, whose errno values are WASI's (ENOENT = 44). Errors cross this table.
import { Errno } from '../../vfs/errno.js';

/** Emscripten/WASI errno values the CPython engine returns itself. */
export const WasiErrno = {
  EACCES: 2,
  EBADF: 8,
  EEXIST: 20,
  EINVAL: 28,
  EIO: 29,
  EISDIR: 31,
  ELOOP: 32,
  EMFILE: 33,
  ENAMETOOLONG: 37,
  ENOENT: 44,
  ENOSPC: 51,
  ENOSYS: 52,
  ENOTDIR: 54,
  ENOTEMPTY: 55,
  ENOTTY: 59,
  EPERM: 63,
  ERANGE: 68,
  EROFS: 69,
  ESPIPE: 70,
  EXDEV: 75,
} as const;

const FROM_LINUX = new Map<number, number>([
  [Errno.EPERM, WasiErrno.EPERM],
  [Errno.ENOENT, WasiErrno.ENOENT],
  [Errno.EIO, WasiErrno.EIO],
  [Errno.EBADF, WasiErrno.EBADF],
  [Errno.EACCES, WasiErrno.EACCES],
  [Errno.EEXIST, WasiErrno.EEXIST],
  [Errno.ENOTDIR, WasiErrno.ENOTDIR],
  [Errno.EISDIR, WasiErrno.EISDIR],
  [Errno.EINVAL, WasiErrno.EINVAL],
  [Errno.ENOSPC, WasiErrno.ENOSPC],
  [Errno.ESPIPE, WasiErrno.ESPIPE],
  [Errno.EROFS, WasiErrno.EROFS],
  [Errno.ERANGE, WasiErrno.ERANGE],
  [Errno.ENOSYS, WasiErrno.ENOSYS],
  [Errno.ENOTEMPTY, WasiErrno.ENOTEMPTY],
  [Errno.ELOOP, WasiErrno.ELOOP],
  [Errno.EXDEV, WasiErrno.EXDEV],
  [Errno.EMFILE, WasiErrno.EMFILE],
  [Errno.ENAMETOOLONG, WasiErrno.ENAMETOOLONG],
]);

/** A Linux errno from the VFS in the guest's numbering (unknown ones become EIO). */
export function toWasiErrno(linux: number): number {
  return FROM_LINUX.get(linux) ?? WasiErrno.EIO;
}
