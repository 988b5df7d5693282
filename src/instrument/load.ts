// Turning guest bytes (binary or .wat text) into a compiled, instrumented WebAssembly.Module, once per
// distinct module: cached in memory by the sha256 of the original bytes, and on disk when a cache
// directory is given (disk-cache.ts; a file met again is found there by its identity, unread). The
// instrumenter (meter.ts: feature check, validation, metering) runs in a worker (worker-client.ts),
// started only on a cache miss; a small module is rewritten on the calling thread instead when no
// worker is running and no server asked for one (IN_PROCESS_MAX_BYTES).
import { identityOfPath, readEntry, readIdentity, takeEntryCompile, writeEntry, writeIdentity } from './disk-cache.js';
import { META_SECTION, type ModuleMeta } from './meter.js';
import { sha256Hex } from '../core/lazy-builtins.js';
import { requirePackages } from '../engine/optional-package.js';
import { instrumenter, watParser } from './worker-client.js';
import { instrumentOrRefusal } from './worker-entry.js';

/**
 * Modules up to this size are rewritten on the calling thread when no instrumenting worker is
 * running: starting one cost more than the rewrite (0.1 s of CPU, up to 0.8 s on a loaded machine).
 * The rewrite is linear, so the size bounds it: 0.2-0.5 s of one core for 1 MiB before V8 has
 * optimized the rewriter, a few times its size in memory; the worker's deadline and heap bound are
 * for what is larger. A server starts and warms its worker up front (Runner.ready): its modules all
 * go there, and its event loop is never held by a rewrite.
 */
export const IN_PROCESS_MAX_BYTES = 1 << 20;

export type { ModuleMeta };

export interface LoadedModule {
  module: WebAssembly.Module;
  meta: ModuleMeta;
  sha256: string;
  /** Where it came from: instrumented now, the memory cache, or the disk cache. */
  source: 'instrumented' | 'memory' | 'disk';
}

export { InvalidModuleError } from './worker-client.js';
import { InvalidModuleError } from './worker-client.js';

/** Compiled modules kept in memory, least recently used dropped first. */
const MAX_CACHED_MODULES = 64;
const cache = new Map<string, { module: WebAssembly.Module; meta: ModuleMeta }>();

function remember(sha256: string, entry: { module: WebAssembly.Module; meta: ModuleMeta }): void {
  cache.delete(sha256);
  cache.set(sha256, entry);
  if (cache.size > MAX_CACHED_MODULES) cache.delete(cache.keys().next().value!);
}
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export function isBinary(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((v, i) => bytes[i] === v);
}

/** .wat text to binary (binaryen's text parser, loaded in the instrumenting worker when first needed). */
export async function watToBinary(text: string): Promise<Uint8Array> {
  // binaryen is an optional peer: only .wat text needs it (binary modules are rewritten without it).
  requirePackages(['binaryen'], 'reading WebAssembly text (.wat)');
  return watParser().wat(text);
}

function metaOf(module: WebAssembly.Module): ModuleMeta {
  const [section] = WebAssembly.Module.customSections(module, META_SECTION);
  if (!section) throw new InvalidModuleError('cached module has no metadata');
  return JSON.parse(new TextDecoder().decode(section)) as ModuleMeta;
}

/**
 * The instrumented, compiled form of `original` (a binary module). `cacheDir`: also keep the
 * instrumented bytes there (only a directory the host alone can write: whoever can write it can
 * replace the metering).
 */
export async function loadModule(original: Uint8Array, cacheDir?: string): Promise<LoadedModule> {
  const sha256 = sha256Hex(original);
  const known = await knownModule(sha256, cacheDir);
  if (known) return known;
  const { bytes, meta } = original.length <= IN_PROCESS_MAX_BYTES && !instrumenter().preferred ? instrumentHere(original) : await instrumenter().instrument(original);
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  if (cacheDir) writeEntry(cacheDir, sha256, bytes); // a damaged entry (refused above) is overwritten
  remember(sha256, { module, meta });
  return { module, meta, sha256, source: 'instrumented' };
}

/** The module `sha256` from the memory cache, or from the disk cache's checked entry (compiled early or now). */
async function knownModule(sha256: string, cacheDir: string | undefined): Promise<LoadedModule | undefined> {
  const hit = cache.get(sha256);
  if (hit) {
    remember(sha256, hit);
    return { ...hit, sha256, source: 'memory' };
  }
  if (cacheDir === undefined) return undefined;
  let module = await takeEntryCompile(cacheDir, sha256)?.catch(() => undefined);
  try {
    if (!module) {
      const bytes = readEntry(cacheDir, sha256);
      if (!bytes) return undefined;
      module = new WebAssembly.Module(bytes);
    }
    const entry = { module, meta: metaOf(module) };
    remember(sha256, entry);
    return { ...entry, sha256, source: 'disk' };
  } catch {
    return undefined; // checked, yet not a module this version wrote: instrument again
  }
}

/**
 * The module in the file at `path`: `read` gives its binary form (reading and converting it) when
 * its identity is not recorded in `cacheDir` yet or its entry is gone or refused; then the identity
 * is recorded, once the file's timestamps are old enough to trust (disk-cache.ts).
 */
export async function loadModuleFile(path: string, cacheDir: string | undefined, read: () => Promise<Uint8Array>): Promise<LoadedModule> {
  if (cacheDir === undefined) return loadModule(await read());
  const identity = identityOfPath(path); // before reading: a change made after it gives another identity
  const recorded = identity === undefined ? undefined : readIdentity(cacheDir, identity);
  const known = recorded === undefined ? undefined : await knownModule(recorded, cacheDir);
  if (known) return known;
  const loaded = await loadModule(await read(), cacheDir);
  if (identity !== undefined && loaded.sha256 !== recorded) writeIdentity(cacheDir, identity, loaded.sha256);
  return loaded;
}

function instrumentHere(original: Uint8Array): { bytes: Uint8Array; meta: ModuleMeta } {
  const result = instrumentOrRefusal(original);
  if (!result.ok) throw new InvalidModuleError(result.message);
  return result.value;
}

/** Forgets the in-memory cache (benchmarks measure first loads with it). */
export function clearModuleCache(): void {
  cache.clear();
}
