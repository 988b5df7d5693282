// MicroPython's module compiled from the command line's first statement: the launcher
// (dist/bundle/cli.cjs) starts V8's background compile before it loads the command's code, so the
// two overlap, and module.ts takes the compile over when a sandbox first needs the module. The
// launcher and the command are separate bundles, each with its own copy of every module, so the
// compile is handed over on a global, keyed by the file it read: a compile is only used for that
// file, and only once.
//
// WebAssembly.compile copies the bytes it is given before it returns (the JS API takes a copy of the
// buffer at the call), so the buffer the file was read into is free again at once, and the launcher
// reads the command's code into it: each page of a new buffer costs a page fault (~14 us here), and
// the module is ~850 KB. What a snapshot is tied to is the sha256 of the bytes compiled; with the
// buffer lent, it is hashed from the file read again (readAsCompiled), which must still have the
// identity it had when it was compiled (device, inode, size, mtime and ctime in ns, trusted once its
// timestamps are RACY_MS old: instrument/disk-cache.ts). A file too new to trust keeps its bytes.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFully } from '../../core/read-fully.js';
import { identityOf } from '../../instrument/disk-cache.js';

export interface EarlyCompile {
  module: Promise<WebAssembly.Module>;
  /** What was compiled, as read; null when `identity` stands for it (its buffer lent to the launcher). */
  bytes: Uint8Array<ArrayBuffer> | null;
  /** The file's identity when it was read, when its bytes were not kept. */
  identity: string | null;
}

const HANDOVER = Symbol.for('pyfence.micropython.early-compile');
type Handover = Map<string, EarlyCompile>;
const handover = (): Handover => ((globalThis as { [HANDOVER]?: Handover })[HANDOVER] ??= new Map());

/** The file whole, with its identity (see identityOf) as of a stat taken after the read. */
function readWithIdentity(path: string): { bytes: Buffer<ArrayBuffer>; identity: string | undefined } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.allocUnsafeSlow(size);
    const done = readFully(fd, bytes);
    const takenMs = Date.now();
    const after = fstatSync(fd, { bigint: true });
    // A file that grew or shrank while it was read has no identity worth keeping.
    return { bytes: bytes.subarray(0, done), identity: after.size === BigInt(done) ? identityOf(after, takenMs) : undefined };
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts compiling the module at `path`; a file that cannot be read is left for module.ts to report.
 * Returns the read's buffer when the compile does not need it kept, for the caller to reuse.
 */
export function startEarlyCompile(path: string): Buffer<ArrayBuffer> | undefined {
  let read: { bytes: Buffer<ArrayBuffer>; identity: string | undefined };
  try {
    read = readWithIdentity(path);
  } catch {
    return undefined;
  }
  const module = WebAssembly.compile(read.bytes);
  module.catch(() => {}); // not taken, or taken later: module.ts reports a failure as its own compile would
  if (read.identity === undefined) {
    handover().set(path, { module, bytes: read.bytes, identity: null });
    return undefined;
  }
  handover().set(path, { module, bytes: null, identity: read.identity });
  return read.bytes;
}

/** The compile started for `path`, if any (given once). */
export function takeEarlyCompile(path: string): EarlyCompile | undefined {
  const early = handover().get(path);
  handover().delete(path);
  return early;
}

/** The bytes at `path`, if the file still has the identity it had when it was compiled; else an error saying so. */
export function readAsCompiled(path: string, identity: string): Uint8Array {
  const now = readWithIdentity(path);
  if (now.identity !== identity) throw new Error(`pyfence: ${path} changed after this process compiled it; start the process again to use the new file`);
  return now.bytes;
}
