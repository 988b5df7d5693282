// Where `pyfence wasm` keeps instrumented modules between runs, so a second run of a program skips
// instrumentation: $PYFENCE_WASM_CACHE, else $XDG_CACHE_HOME/pyfence/wasm, else ~/.cache/pyfence/wasm.
// PYFENCE_WASM_CACHE=off (or 0, or empty) and --no-cache turn it off. Whoever can write the directory
// can replace the metering, so it is used only when it is this user's alone; each entry's hash is
// checked before use (src/instrument/load.ts), and the oldest entries go past MAX_CACHE_BYTES.
import * as fs from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const MAX_CACHE_BYTES = 256 * 2 ** 20;
const OFF = new Set(['', '0', 'off', 'false', 'no']);

/** The cache directory to use, or undefined when caching is off or the directory is not safe to use. */
export function wasmCacheDir(enabled: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!enabled) return undefined;
  const override = env.PYFENCE_WASM_CACHE;
  if (override !== undefined && OFF.has(override.trim().toLowerCase())) return undefined;
  const dir = override ?? join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pyfence', 'wasm');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const ownerOnly = st.isDirectory() && (st.mode & 0o022) === 0 && (process.getuid === undefined || st.uid === process.getuid());
    if (ownerOnly) return dir;
    process.stderr.write(`pyfence: not caching modules in ${dir}: it must be a directory only you can write\n`);
  } catch (e) {
    process.stderr.write(`pyfence: not caching modules in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
  }
  return undefined;
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
