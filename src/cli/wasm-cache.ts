// Where `pyfence wasm` keeps instrumented modules between runs, so a second run of a program skips
// instrumentation: $PYFENCE_WASM_CACHE, else $XDG_CACHE_HOME/pyfence/wasm, else ~/.cache/pyfence/wasm.
// PYFENCE_WASM_CACHE=off (or 0, or empty) and --no-cache turn it off. Whoever can write the directory
// can replace the metering, so it is used only when it is this user's alone; each entry's hash is
// checked before use (src/instrument/load.ts), and the oldest entries go past MAX_CACHE_BYTES.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { userCacheDir } from './cache-dir.js';

export const MAX_CACHE_BYTES = 256 * 2 ** 20;

/** The cache directory to use, or undefined when caching is off or the directory is not safe to use. */
export function wasmCacheDir(enabled: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!enabled) return undefined;
  return userCacheDir('wasm', 'PYFENCE_WASM_CACHE', (why) => process.stderr.write(`pyfence: not caching modules in ${why}\n`), env);
}

/** Removes the oldest entries (with their hash files) until the directory holds at most `maxBytes`. */
export function pruneWasmCache(dir: string, maxBytes = MAX_CACHE_BYTES): void {
  let entries: { path: string; bytes: number; mtimeMs: number }[];
  try {
    entries = fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.wasm'))
      .map((name) => {
        const path = join(dir, name);
        const st = fs.statSync(path);
        return { path, bytes: st.size, mtimeMs: st.mtimeMs };
      });
  } catch {
    return; // another run pruned meanwhile, or the directory went away: nothing to bound
  }
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  for (const entry of entries.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    if (total <= maxBytes) break;
    fs.rmSync(entry.path, { force: true });
    fs.rmSync(`${entry.path}.sha256`, { force: true });
    total -= entry.bytes;
  }
}
