// Error numbers, one list for every ABI: each error by name with its Linux number (the VFS's own
// numbering, and what MicroPython's errno module names) and its WASI number (what wasi-libc and
// Emscripten's musl, CPython's libc, compare against). The VFS raises VfsError in Linux numbers;
// each ABI layer answers in its own column (toWasiErrno, wasiErrnoOf).

/** name: [Linux, WASI]; null where Linux has no such error. */
const TABLE = {
  E2BIG: [7, 1],
  EACCES: [13, 2],
  EAGAIN: [11, 6],
  EBADF: [9, 8],
  EBUSY: [16, 10],
  EEXIST: [17, 20],
  EFAULT: [14, 21],
  EFBIG: [27, 22],
  EINVAL: [22, 28],
  EIO: [5, 29],
  EISDIR: [21, 31],
  ELOOP: [40, 32],
  EMFILE: [24, 33],
  ENAMETOOLONG: [36, 37],
  ENOENT: [2, 44],
  ENOSPC: [28, 51],
  ENOSYS: [38, 52],
  ENOTDIR: [20, 54],
  ENOTEMPTY: [39, 55],
  ENOTSOCK: [88, 57],
  EOPNOTSUPP: [95, 58],
  ENOTTY: [25, 59],
  EOVERFLOW: [75, 61],
  EPERM: [1, 63],
  ERANGE: [34, 68],
  EROFS: [30, 69],
  ESPIPE: [29, 70],
  EXDEV: [18, 75],
  ENOTCAPABLE: [null, 76],
} as const;

type Name = keyof typeof TABLE;
type LinuxName = { [K in Name]: (typeof TABLE)[K][0] extends number ? K : never }[Name];

function column<N extends string>(i: 0 | 1, names: readonly N[]): Record<N, number> {
  return Object.fromEntries(names.map((n) => [n, TABLE[n as unknown as Name][i]])) as Record<N, number>;
}

const NAMES = Object.keys(TABLE) as Name[];
const LINUX_NAMES = NAMES.filter((n): n is LinuxName => TABLE[n][0] !== null);

/** Linux numbers: the VFS's numbering. */
export const Errno: Readonly<Record<LinuxName, number>> = column(0, LINUX_NAMES);

/** WASI numbers (wasi_snapshot_preview1, and Emscripten's musl), with ESUCCESS. */
export const WasiErrno: Readonly<Record<Name | 'ESUCCESS', number>> = { ESUCCESS: 0, ...column(1, NAMES) };

const LINUX_TO_WASI = new Map<number, number>(LINUX_NAMES.map((n) => [TABLE[n][0] as number, TABLE[n][1]]));

/** A Linux errno from the VFS in WASI's numbering (unknown ones become EIO). */
export function toWasiErrno(linux: number): number {
  return LINUX_TO_WASI.get(linux) ?? WasiErrno.EIO;
}

/** Why a grant refused an operation (for the audit trail); ordinary failures have none. */
export type VfsRefusal = 'read-only' | 'path-escape';

/** A filesystem operation failed with `errno` (Linux); the message is for the host's logs and tests. */
export class VfsError extends Error {
  constructor(
    readonly errno: number,
    message: string,
    readonly refusal: VfsRefusal | null = null,
  ) {
    super(message);
  }
}

/** A WASI call fails with this errno (WASI); thrown inside the WASI layer, returned to the guest. */
export class WasiError extends Error {
  constructor(
    readonly errno: number,
    message = '',
  ) {
    super(message);
  }
}

/** A host error code (Node's e.code) in Linux numbering; EPERM is EACCES (MicroPython names no EPERM for it). */
export function hostErrno(code: string | undefined): number {
  if (code === 'EPERM' || code === 'EBUSY') return Errno.EACCES;
  if (code === 'ENFILE') return Errno.EMFILE;
  if (code === 'EMLINK') return Errno.EPERM;
  return code !== undefined && Object.hasOwn(Errno, code) ? Errno[code as LinuxName] : Errno.EIO;
}

/** Any error raised under a WASI call as the errno the guest gets (null: not an error of the call, let it unwind). */
export function wasiErrnoOf(e: unknown): number | null {
  if (e instanceof WasiError) return e.errno;
  // A read-only refusal is EACCES for MicroPython's errno module; WASI has EROFS for it.
  if (e instanceof VfsError) return e.refusal === 'read-only' ? WasiErrno.EROFS : toWasiErrno(e.errno);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code.startsWith('E')) return toWasiErrno(hostErrno(code));
  return null;
}
