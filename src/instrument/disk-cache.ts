// The disk cache of instrumented modules (load.ts; `pyfence wasm` keeps one by default): a directory
// only the host's user can write (whoever can write it can replace the metering).
//   <sha256 of the original module>.v<INSTRUMENT_VERSION>.wasm   the instrumented bytes
//   <that>.check                                                  "<size> <checksum64>" of them
//   <dev>-<ino>-<size>-<mtime ns>-<ctime ns>.file                 the sha256 a file of that identity has
// A file met again with the same identity is not read or hashed (hashing needs node:crypto, ~8 ms
// to load, the largest part of a cached `pyfence wasm` run's own work); its entry still is checked
// before use: a regular file of this user's that no one else may write (opened without following
// a link), of the size and checksum its check file records. A file's identity is recorded only once
// its timestamps are older than RACY_MS when its stat was taken (git's racy-clean rule): a change
// made after that stat gives it a newer ctime, even on a file system with coarse timestamps, and
// no one can set a ctime back (utimes sets mtime and ctime to now), so a file changed with its mtime
// put back has another identity.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, type BigIntStats, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { readFully } from '../core/read-fully.js';
import { checksum64, checksummed } from './checksum.js';

/** Bumped whenever the instrumentation changes, so stale disk entries are never used. */
export const INSTRUMENT_VERSION = 6;

export const ENTRY_SUFFIX = `.v${INSTRUMENT_VERSION}.wasm`;
export const CHECK_SUFFIX = '.check';
export const IDENTITY_SUFFIX = '.file';

/** A file whose mtime or ctime is this close to its stat is hashed each run: a change in the same tick would go unseen. */
export const RACY_MS = 2000;

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** The name of a file's identity record, or undefined while its timestamps are too recent to trust. */
export function identityOf(st: BigIntStats, statTakenMs: number): string | undefined {
  const newest = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
  if (Number(newest / 1_000_000n) > statTakenMs - RACY_MS) return undefined;
  return `${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}${IDENTITY_SUFFIX}`;
}

/** The identity of the file at `path` as it is now (undefined: racy, or not a file we can stat). */
export function identityOfPath(path: string): string | undefined {
  const takenMs = Date.now();
  try {
    return identityOf(statSync(path, { bigint: true }), takenMs);
  } catch {
    return undefined;
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The sha256 recorded for a file identity, if any. */
export function readIdentity(dir: string, identity: string): string | undefined {
  try {
    const sha256 = readFileSync(join(dir, identity), 'latin1');
    return SHA256.test(sha256) ? sha256 : undefined;
  } catch {
    return undefined;
  }
}

export function writeIdentity(dir: string, identity: string, sha256: string): void {
  writeWhole(join(dir, identity), sha256);
}

function ownedByUser(st: Stats): boolean {
  return st.isFile() && (st.mode & 0o022) === 0 && (process.getuid === undefined || st.uid === process.getuid());
}

/** The instrumented bytes cached for the module `sha256`, checked; undefined when absent or refused. */
export function readEntry(dir: string, sha256: string): Uint8Array<ArrayBuffer> | undefined {
  const file = join(dir, `${sha256}${ENTRY_SUFFIX}`);
  let check: string;
  let fd: number;
  try {
    check = readFileSync(`${file}${CHECK_SUFFIX}`, 'latin1');
    fd = openSync(file, constants.O_RDONLY | NO_FOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!ownedByUser(st) || !check.startsWith(`${st.size} `)) return undefined;
    const { bytes, checksum } = checksummed(st.size, (into) => {
      if (readFully(fd, into) < into.length) throw new Error('entry shorter than its stat');
    });
    return `${st.size} ${checksum}` === check ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Keeps `bytes` as the entry for `sha256`: its check first, so a reader meeting the new check with the old bytes refuses them. */
export function writeEntry(dir: string, sha256: string, bytes: Uint8Array): void {
  const file = join(dir, `${sha256}${ENTRY_SUFFIX}`);
  writeWhole(`${file}${CHECK_SUFFIX}`, `${bytes.length} ${checksum64(bytes)}`);
  writeWhole(file, bytes);
}

function writeWhole(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Compiles of checked entries started before the command's code loaded (`pyfence wasm`: the
 * launcher, src/cli/launcher.ts, starts one on V8's background threads while the main thread loads
 * the command), each taken once by load.ts. The launcher and the command are separate bundles with
 * a copy each of this module: the compiles are handed over on a global, keyed by directory and module.
 */
const HANDOVER = Symbol.for('pyfence.wasm-cache.early-compile');
type Handover = Map<string, Promise<WebAssembly.Module>>;
const handover = (): Handover => ((globalThis as { [HANDOVER]?: Handover })[HANDOVER] ??= new Map());

/** Starts compiling the checked entry recorded for the file at `path`, if there is one; whether it did. */
export function startEntryCompile(dir: string, path: string): boolean {
  const identity = identityOfPath(path);
  const sha256 = identity === undefined ? undefined : readIdentity(dir, identity);
  const bytes = sha256 === undefined ? undefined : readEntry(dir, sha256);
  if (!bytes) return false;
  const module = WebAssembly.compile(bytes);
  module.catch(() => {}); // not taken, or taken later: the taker compiles again
  handover().set(`${dir}\0${sha256}`, module);
  return true;
}

/** The compile started for the entry of module `sha256` in `dir`, if any (given once). */
export function takeEntryCompile(dir: string, sha256: string): Promise<WebAssembly.Module> | undefined {
  const key = `${dir}\0${sha256}`;
  const module = handover().get(key);
  handover().delete(key);
  return module;
}
