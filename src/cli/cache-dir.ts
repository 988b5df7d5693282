// The user's cache directories for pyfence ($XDG_CACHE_HOME/pyfence/NAME, else ~/.cache/pyfence/NAME),
// each overridable by an environment variable that also turns it off. What a cache holds is run
// (instrumented modules, the CLI's compiled code): whoever can write the directory could replace
// it, so a directory is used only when it is this user's alone.
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeOs } from '../core/lazy-builtins.js';

const OFF = new Set(['', '0', 'off', 'false', 'no']);

/**
 * The directory `name` under the user's pyfence cache, or `env[variable]` when set; undefined when
 * that variable says off, or the directory cannot be made or is not safe to use (`warn`ed, if given).
 */
export function userCacheDir(name: string, variable: string, warn?: (why: string) => void, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env[variable];
  if (override !== undefined && OFF.has(override.trim().toLowerCase())) return undefined;
  // $HOME is what os.homedir() answers first; reading it here spares every command loading node:os.
  const dir = override ?? join(env.XDG_CACHE_HOME || join(env.HOME || nodeOs().homedir(), '.cache'), 'pyfence', name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    const ownerOnly = st.isDirectory() && (st.mode & 0o022) === 0 && (process.getuid === undefined || st.uid === process.getuid());
    if (ownerOnly) return dir;
    warn?.(`${dir}: it must be a directory only you can write`);
  } catch (e) {
    warn?.(`${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return undefined;
}
