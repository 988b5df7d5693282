// Where `pyfence wasm` keeps instrumented modules between runs, so a second run of a program skips
// instrumentation: $PYFENCE_WASM_CACHE, else $XDG_CACHE_HOME/pyfence/wasm, else ~/.cache/pyfence/wasm.
// PYFENCE_WASM_CACHE=off (or 0, or empty) and --no-cache turn it off. Whoever can write the directory
// can replace the metering, so it is used only when it is this user's alone; each entry is checked
// before use (src/instrument/disk-cache.ts), and the oldest entries go past MAX_CACHE_BYTES.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_SUFFIX, ENTRY_SUFFIX, IDENTITY_SUFFIX, startEntryCompile } from '../instrument/disk-cache.js';
import { userCacheDir } from './cache-dir.js';

export const MAX_CACHE_BYTES = 256 * 2 ** 20;

/** The cache directory to use, or undefined when caching is off or the directory is not safe to use. */
export function wasmCacheDir(enabled: boolean, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!enabled) return undefined;
  return userCacheDir('wasm', 'PYFENCE_WASM_CACHE', (why) => process.stderr.write(`pyfence: not caching modules in ${why}\n`), env);
}

/**
 * For `pyfence wasm` (`argv`: process.argv), before the command's code loads: starts compiling the
 * cached entry of the file the words name, so V8's background threads compile it while the main
 * thread loads the command (src/cli/launcher.ts). A guess from the words: the first of the first few
 * words not an option that is a file recorded in the cache (a wrong one costs a compile, not taken).
 * The command checks the directory again and warns if it is unsafe; this says nothing.
 */
export function compileCachedEarly(argv: string[], env: NodeJS.ProcessEnv = process.env): void {
  const words = argv.slice(3);
  if (words.some((w) => w === '--no-cache' || w === '--help' || w === '-h')) return;
  const dir = userCacheDir('wasm', 'PYFENCE_WASM_CACHE', undefined, env);
  if (dir === undefined) return;
  for (const word of words.filter((w) => !w.startsWith('-')).slice(0, 4)) if (startEntryCompile(dir, word)) return;
}

/** Identity records kept at most (each a few dozen bytes; a file touched often leaves one per touch). */
const MAX_IDENTITIES = 4096;

/**
 * Removes the oldest entries (with their check files) until the directory holds at most `maxBytes`,
 * then the file identity records that name no entry left, and the oldest records past MAX_IDENTITIES.
 * Run after a run wrote an entry: only writing makes the directory grow.
 */
export function pruneWasmCache(dir: string, maxBytes = MAX_CACHE_BYTES): void {
  let names: string[];
  let entries: { path: string; bytes: number; mtimeMs: number }[];
  try {
    names = readdirSync(dir);
    entries = names
      .filter((name) => name.endsWith('.wasm'))
      .map((name) => {
        const path = join(dir, name);
        const st = statSync(path);
        return { path, bytes: st.size, mtimeMs: st.mtimeMs };
      });
  } catch {
    return; // another run pruned meanwhile, or the directory went away: nothing to bound
  }
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  for (const entry of entries.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
    if (total <= maxBytes) break;
    rmSync(entry.path, { force: true });
    rmSync(`${entry.path}${CHECK_SUFFIX}`, { force: true });
    rmSync(`${entry.path}.sha256`, { force: true }); // what an entry written before .check files had
    total -= entry.bytes;
  }
  const records = names.filter((name) => name.endsWith(IDENTITY_SUFFIX)).map((name) => join(dir, name));
  const kept: { path: string; mtimeMs: number }[] = [];
  for (const path of records) {
    try {
      const sha256 = readFileSync(path, 'latin1');
      if (existsSync(join(dir, `${sha256}${ENTRY_SUFFIX}`))) kept.push({ path, mtimeMs: statSync(path).mtimeMs });
      else rmSync(path, { force: true });
    } catch {
      // gone meanwhile
    }
  }
  for (const record of kept.sort((a, b) => b.mtimeMs - a.mtimeMs).slice(MAX_IDENTITIES)) rmSync(record.path, { force: true });
}
