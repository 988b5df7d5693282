// Bytes read by position, from a file or an array: the module's edit and the state's load read the
// parts they keep straight to where they go, so a file is never held whole in a second copy.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFully } from '../../core/read-fully.js';

export interface ByteSource {
  size: number;
  /** Copies `length` bytes at `from` into `into` at `intoAt`. */
  read(into: Uint8Array, intoAt: number, from: number, length: number): void;
}

export function arraySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (into, intoAt, from, length) => into.set(bytes.subarray(from, from + length), intoAt) };
}

/** Calls `use` with the file at `path` open as a source; closed after. */
export function withFileSource<T>(path: string, use: (source: ByteSource) => T): T {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return use({
      size,
      read(into, intoAt, from, length) {
        if (from < 0 || from + length > size) throw new RangeError(`pyfence: read past the end of ${path}`);
        if (readFully(fd, into.subarray(intoAt, intoAt + length), from) < length) throw new Error(`pyfence: ${path} shrank while it was read`);
      },
    });
  } finally {
    closeSync(fd);
  }
}
