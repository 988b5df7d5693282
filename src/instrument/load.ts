// Turning guest bytes (binary or .wat text) into a compiled, instrumented WebAssembly.Module, once per
// distinct module: cached in memory by the sha256 of the original bytes, and on disk when a cache
// directory is given. The instrumenter (meter.ts: feature check, validation, metering) runs in a
// worker (worker-client.ts), started only on a cache miss; a small module is rewritten on the calling
// thread instead when no worker is running and no server asked for one (IN_PROCESS_MAX_BYTES).
import * as fs from 'node:fs';
import { join } from 'node:path';
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

/** Bumped whenever the instrumentation changes, so stale disk entries are never used. */
const INSTRUMENT_VERSION = 6;

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
  const hit = cache.get(sha256);
  if (hit) {
    remember(sha256, hit);
    return { ...hit, sha256, source: 'memory' };
  }
  const file = cacheDir ? join(cacheDir, `${sha256}.v${INSTRUMENT_VERSION}.wasm`) : null;
  if (file && fs.existsSync(file)) {
    try {
      const bytes = fs.readFileSync(file);
      if (fs.readFileSync(`${file}.sha256`, 'utf8') !== sha256Hex(bytes)) throw new Error('not the bytes written');
      const module = new WebAssembly.Module(bytes);
      const entry = { module, meta: metaOf(module) };
      remember(sha256, entry);
      return { ...entry, sha256, source: 'disk' };
    } catch {
      // a damaged entry (or its hash missing or not matching): instrument again and overwrite it
    }
  }
  const { bytes, meta } = original.length <= IN_PROCESS_MAX_BYTES && !instrumenter().preferred ? instrumentHere(original) : await instrumenter().instrument(original);
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  if (file) {
    fs.mkdirSync(cacheDir!, { recursive: true });
    // The entry's own hash first: a reader meeting the new hash with the old bytes re-instruments.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, sha256Hex(bytes));
    fs.renameSync(tmp, `${file}.sha256`);
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  }
  remember(sha256, { module, meta });
  return { module, meta, sha256, source: 'instrumented' };
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
