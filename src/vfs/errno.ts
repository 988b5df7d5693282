// Error numbers of the virtual filesystem, as the guest sees them. The wasm's libc uses WASI numbering (ENOENT = 44), but
// MicroPython's `errno` module names Linux numbers (ENOENT = 2). The C code only passes errno through to
// OSError, so we answer in the numbering the guest's `errno` module can compare against.
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EACCES: 13,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  EXDEV: 18,
  EMFILE: 24,
  ENAMETOOLONG: 36,
  EFBIG: 27,
  EOPNOTSUPP: 95,
} as const;

/** Why a grant refused an operation (for the audit trail); ordinary failures have none. */
export type VfsRefusal = 'read-only' | 'path-escape';

/** A filesystem operation failed with `errno`; the message is for the host's logs and tests. */
export class VfsError extends Error {
  constructor(
    readonly errno: number,
    message: string,
    readonly refusal: VfsRefusal | null = null,
  ) {
    super(message);
  }
}
