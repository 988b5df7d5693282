// The `pyfence` command's JavaScript with a V8 code cache: the command is one CommonJS file
// (dist/bundle/cli-main.cjs, build/bundle.mjs) compiled through vm.Script, and the code V8 compiled
// for it in a run is kept in the user's cache directory for the next run, which then skips parsing
// and compiling most of it. Node 20 has no module compile cache of its own.
// A cache entry is used only when it was made from this very file: its name carries the build's
// hash of the file (written into the launcher at build time) and Node's version and architecture,
// its header the file's length and modification time; V8 then checks its own version and flags, the
// code's length and a checksum of it (verifyingChecksums). Anything else (absent, corrupt, truncated,
// stale, refused by V8) is compiled afresh and written again. The package directory is never
// written: it may be read-only.
import { closeSync, fstatSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { readFully } from '../core/read-fully.js';
import { setV8Flags } from '../engine/v8-flags.js';
import { Script, constants as vmConstants } from 'node:vm';

const MAGIC = 0x43434652; // "RFCC": the third layout (the second had a 20-byte header)
// magic, the source's length (u32 little-endian each), the source's mtime (f64), whether the run
// that made it was unusual (u32: 1 when it was), four bytes unused. 24 bytes, so that the code after
// it is 8-byte aligned in a buffer as Node allocates one: V8 copies cached data that is not.
const HEADER_BYTES = 24;

/** What an entry must have been made from: the source file as it is now. */
export interface SourceStamp {
  length: number;
  mtimeMs: number;
}

/**
 * Runs `work` with V8 checksumming the code caches it makes and checking the ones it is given (V8
 * does both only in debug builds unless told): a corrupt or truncated entry is then refused
 * (cachedDataRejected) rather than deserialised. Its check (no difference measured in the
 * deserialisation's time) replaced a CRC-32 here, which loaded node:zlib (~2 ms) or ran a JavaScript
 * loop (~8 ms). Off again after, so that nothing else V8 deserialises (a worker thread's start-up
 * snapshot) is checked too. The flag is part of V8's key for a code cache, so making and using an
 * entry both run under it.
 */
export function verifyingChecksums<T>(work: () => T): T {
  setV8Flags('--verify-snapshot-checksum');
  try {
    return work();
  } finally {
    setV8Flags('--no-verify-snapshot-checksum');
  }
}

/** The entry's file for the source built as `build` (a hash of it), on this Node. */
export function cacheFile(dir: string, name: string, build: string): string {
  return join(dir, `${name}.${buildTag(build)}.v8`);
}

const buildTag = (build: string) => `${build.slice(0, 16)}-${process.version}-${process.arch}`;

export interface Entry {
  code: Buffer;
  /** Made by a run that did work its command's runs usually do not (keepLeanCodeCache). */
  unusual: boolean;
}

/**
 * An entry, or undefined when it is absent or not made for this source (V8 checks the code). Read
 * into `scratch` when it is large enough (the entry's code is then a view of it).
 */
export function readEntry(file: string, source: SourceStamp, scratch?: Buffer): Entry | undefined {
  let bytes: Buffer;
  try {
    bytes = readWhole(file, scratch).bytes;
  } catch {
    return undefined;
  }
  if (bytes.length <= HEADER_BYTES) return undefined;
  if (bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== source.length >>> 0 || bytes.readDoubleLE(8) !== source.mtimeMs) return undefined;
  return { code: bytes.subarray(HEADER_BYTES), unusual: bytes.readUInt32LE(16) === 1 };
}

interface WholeFile {
  /** What was read into: `scratch`, or a buffer of its own when `scratch` was too small. */
  buffer: Buffer;
  /** The file's bytes in it (a short read is the file as it was: checked by the reader). */
  bytes: Buffer;
  mtimeMs: number;
}

/** The whole file, read into `scratch` when it fits: each page of a new buffer costs a page fault (~14 us here). */
function readWhole(file: string, scratch: Buffer | undefined): WholeFile {
  const fd = openSync(file, 'r');
  try {
    const { size, mtimeMs } = fstatSync(fd);
    const buffer = scratch !== undefined && scratch.length >= size ? scratch : Buffer.allocUnsafeSlow(size);
    return { buffer, bytes: buffer.subarray(0, readFully(fd, buffer.subarray(0, size))), mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Writes an entry whole or not at all (a temporary file renamed), and drops every entry of other builds. */
export function writeEntry(file: string, source: SourceStamp, data: Uint8Array, unusual = false): void {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(source.length >>> 0, 4);
  header.writeDoubleLE(source.mtimeMs, 8);
  header.writeUInt32LE(unusual ? 1 : 0, 16);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(temporary, file);
    const tag = basename(file).slice(basename(file).indexOf('.')); // ".<build>-<node>-<arch>.v8"; names have no dot
    for (const other of readdirSync(dirname(file))) {
      if (other.endsWith('.v8') && !other.endsWith(tag)) rmSync(join(dirname(file), other), { force: true });
    }
  } catch {
    rmSync(temporary, { force: true }); // a full disk or a racing run: the next run tries again
  }
}

const UNUSUAL = Symbol.for('pyfence.code-cache.unusual-run');

/**
 * Tells the launcher that this run did work its command's runs usually do not (`pyfence wasm`
 * instrumenting a module its disk cache then holds). An entry holds all the code its run compiled,
 * for every later run to deserialise, and is not rewritten once used, so an entry this run makes is
 * marked; the first usual run that uses a marked entry removes it at exit, and the run after writes
 * one holding only what usual runs compile. A command whose every run is unusual (always a new
 * module) keeps using its marked entry. (The command is a bundle of its own: the mark is on a
 * global the launcher's copy of this module reads.)
 */
export function keepLeanCodeCache(): void {
  (globalThis as { [UNUSUAL]?: boolean })[UNUSUAL] = true;
}

const runUnusual = () => (globalThis as { [UNUSUAL]?: boolean })[UNUSUAL] === true;

export interface CachedRun {
  /** Whether V8 took the cached code (false: there was none, or it was refused). */
  cacheUsed: boolean;
}

/**
 * Runs the CommonJS file `main` (its hash `build`) as this process's program, with its code cache
 * entry `entry` in `dir` (none when undefined), read into `given` when it is large enough. `main`
 * holds one function expression, the module wrapped as Node's loader would (build/bundle.mjs),
 * called here with what that loader gives. When the cache was not used, the code compiled by the
 * end of the run is written at exit (marked when the run was unusual: keepLeanCodeCache).
 */
export function runCommonJs(main: string, key: { build: string; entry: string }, dir: string | undefined, given?: Buffer): CachedRun {
  // One buffer takes the source, then (once the source is a string) the entry, which is most of the
  // source's size. `given`, a buffer the caller has no more use for, serves when it is large enough.
  const read = readWhole(main, given);
  // esbuild writes ASCII only (non-ASCII escaped), so latin1 reads it exactly and skips UTF-8 decoding.
  const source = read.bytes.toString('latin1');
  const stamp: SourceStamp = { length: source.length, mtimeMs: read.mtimeMs };
  const file = dir === undefined ? undefined : cacheFile(dir, key.entry, key.build);
  const entry = file === undefined ? undefined : readEntry(file, stamp, read.buffer);
  const script = verifyingChecksums(() => new Script(source, { filename: main, cachedData: entry?.code, importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER }));
  const cacheUsed = entry !== undefined && !script.cachedDataRejected;
  if (file !== undefined && (!cacheUsed || entry.unusual)) {
    process.once('exit', () => {
      if (!cacheUsed) writeEntry(file, stamp, verifyingChecksums(() => script.createCachedData()), runUnusual());
      // Not rewritten from this run: what it deserialised from the entry is all still compiled.
      else if (!runUnusual()) rmSync(file, { force: true });
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(main), module, main, dirname(main));
  return { cacheUsed };
}
