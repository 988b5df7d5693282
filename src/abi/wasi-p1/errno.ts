// WASI preview1 error numbers (the guest's libc compares against these), and the translation from
// the VFS's numbering.
import { Errno as Vfs, VfsError } from '../../vfs/errno.js';

export const E = {
  SUCCESS: 0,
  TOOBIG: 1,
  ACCES: 2,
  AGAIN: 6,
  BUSY: 10,
  BADF: 8,
  EXIST: 20,
  FAULT: 21,
  FBIG: 22,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  MFILE: 33,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSOCK: 57,
  NOTSUP: 58,
  NOTTY: 59,
  OVERFLOW: 61,
  PERM: 63,
  ROFS: 69,
  SPIPE: 70,
  XDEV: 75,
  NOTCAPABLE: 76,
} as const;

/** A WASI call fails with this errno; thrown inside the ABI layer, returned to the guest. */
export class WasiError extends Error {
  constructor(
    readonly errno: number,
    message = '',
  ) {
    super(message);
  }
}

const FROM_VFS: Record<number, number> = {
  [Vfs.EPERM]: E.PERM,
  [Vfs.ENOENT]: E.NOENT,
  [Vfs.EIO]: E.IO,
  [Vfs.EBADF]: E.BADF,
  [Vfs.EACCES]: E.ACCES,
  [Vfs.EEXIST]: E.EXIST,
  [Vfs.ENOTDIR]: E.NOTDIR,
  [Vfs.EISDIR]: E.ISDIR,
  [Vfs.EINVAL]: E.INVAL,
  [Vfs.ENOSPC]: E.NOSPC,
  [Vfs.ESPIPE]: E.SPIPE,
  [Vfs.EROFS]: E.ROFS,
  [Vfs.ENOSYS]: E.NOSYS,
  [Vfs.ENOTEMPTY]: E.NOTEMPTY,
  [Vfs.ELOOP]: E.LOOP,
  [Vfs.EXDEV]: E.XDEV,
  [Vfs.EMFILE]: E.MFILE,
  [Vfs.ENAMETOOLONG]: E.NAMETOOLONG,
  [Vfs.EFBIG]: E.FBIG,
  [Vfs.EOPNOTSUPP]: E.NOTSUP,
};

const FROM_HOST: Record<string, number> = {
  ENOENT: E.NOENT,
  EEXIST: E.EXIST,
  ENOTDIR: E.NOTDIR,
  EISDIR: E.ISDIR,
  ENOTEMPTY: E.NOTEMPTY,
  EACCES: E.ACCES,
  EPERM: E.PERM,
  ELOOP: E.LOOP,
  EINVAL: E.INVAL,
  ENOSPC: E.NOSPC,
  EROFS: E.ROFS,
  ENAMETOOLONG: E.NAMETOOLONG,
  EXDEV: E.XDEV,
  EBADF: E.BADF,
  EMFILE: E.MFILE,
  ENFILE: E.MFILE,
  EFBIG: E.FBIG,
  ESPIPE: E.SPIPE,
  EBUSY: E.ACCES,
  EMLINK: E.PERM,
};

/** Any error raised under a WASI call as the errno the guest gets; unknown host errors are EIO. */
export function errnoOf(e: unknown): number | null {
  if (e instanceof WasiError) return e.errno;
  // A read-only refusal is EACCES for MicroPython's errno module; WASI has EROFS for it.
  if (e instanceof VfsError) return e.refusal === 'read-only' ? E.ROFS : (FROM_VFS[e.errno] ?? E.IO);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code.startsWith('E')) return FROM_HOST[code] ?? E.IO;
  return null;
}
