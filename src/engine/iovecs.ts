// The scatter/gather buffers of a read or write (fd_read, fd_write), read from guest memory for every
// ABI layer: their number is bounded before any is read, because a call with millions of empty
// buffers costs the host time and no fuel.
import type { GuestMemory } from './memory-view.js';

/** The most buffers one read or write takes, as POSIX's IOV_MAX (1024 in wasi-libc and Emscripten's musl); more is EINVAL. */
export const IOV_MAX = 1024;

export interface Iovec {
  ptr: number;
  len: number;
}

/** The `count` iovecs at `iovs` (8 bytes each: pointer, length), or null past IOV_MAX. */
export function readIovecs(m: GuestMemory, iovs: number, count: number): Iovec[] | null {
  if (count >>> 0 > IOV_MAX) return null;
  const out: Iovec[] = [];
  for (let i = 0; i < count; i++) out.push({ ptr: m.u32(iovs + i * 8), len: m.u32(iovs + i * 8 + 4) });
  return out;
}
