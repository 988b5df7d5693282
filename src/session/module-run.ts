// One run of a compiled module: the one Session over the module's guest for that run (a module keeps
// nothing between runs), disposed when the run ends.
import { moduleGuest, type Entry, type RunTarget } from '../guests/wasi/guest.js';
import { checkRunOptions, resolveWasmLimits, type WasmRunOptions } from '../guests/wasi/options.js';
import type { WasmRunResult } from '../guests/wasi/result.js';
import { Session } from './session.js';

/**
 * Runs `entry` of `target` in a fresh instance. Throws UsageError for invalid options only.
 * `onCheckpoint` is called where the guest spends time without writing (fuel slices, sleeps, stdin
 * waits): a worker flushes batched output there.
 */
export function runModule(target: RunTarget, entry: Entry, options: WasmRunOptions, onCheckpoint?: () => void): WasmRunResult {
  checkRunOptions(options);
  const limits = resolveWasmLimits(options.limits);
  const guest = moduleGuest({ target, entry, options, limits, onCheckpoint });
  const session = new Session(guest, { determinism: { fixedMs: options.clock?.fixedMs ?? null, seed: options.seed ?? null } });
  try {
    return session.run(entry.kind === 'start' ? '_start' : entry.name, limits, { onStdoutBytes: options.onStdout, onStderrBytes: options.onStderr }, null);
  } finally {
    session.dispose();
  }
}
