// A host file descriptor owned by one open guest file. The number is only reachable through the
// owner while it is open: after close() every use is EBADF, so a guest entry that outlives its close
// can never reach whatever the process opens next under the same number (another tenant's file).
import * as fs from 'node:fs';
import { Errno, VfsError } from './errno.js';

export class HostFd {
  #fd: number | null;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The open descriptor; EBADF once closed. */
  get fd(): number {
    if (this.#fd === null) throw new VfsError(Errno.EBADF, 'file already closed');
    return this.#fd;
  }

  get open(): boolean {
    return this.#fd !== null;
  }

  /** Closes the host descriptor once; later calls do nothing. */
  close(): void {
    const fd = this.#fd;
    this.#fd = null;
    if (fd !== null) fs.closeSync(fd);
  }
}
