// A positioned read that goes on until the buffer is full: one read() may return less than asked.
import { readSync } from 'node:fs';

/** Reads `fd` from `position` into `into` until it is full or the file ends; the number of bytes read. */
export function readFully(fd: number, into: Uint8Array, position = 0): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
