// The REPL's history across runs, as python3 keeps ~/.python_history: $PYFENCE_HISTORY, else
// ~/.pyfence_history; PYFENCE_HISTORY=off (or --no-history) keeps none. The host's file, written
// by the host: nothing of it is visible to the sandbox.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const OFF = new Set(['', '0', 'off', 'false', 'no']);

export function historyFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env.PYFENCE_HISTORY;
  if (override !== undefined) return OFF.has(override.trim().toLowerCase()) ? undefined : override;
  return join(homedir(), '.pyfence_history');
}

/** Newest first, as readline holds it; a missing or unreadable file is an empty history. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse();
  } catch {
    return [];
  }
}

/** Oldest first in the file, one entry a line; a file that cannot be written leaves the history unsaved. */
export function saveHistory(file: string, newestFirst: readonly string[]): void {
  try {
    writeFileSync(file, [...newestFirst].reverse().join('\n') + '\n', { mode: 0o600 });
  } catch {
    // as python3: the session goes on without saving its history
  }
}
