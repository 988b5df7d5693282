// Cancelling a run with an AbortSignal, as Node's own APIs do: an aborted signal rejects with its
// `reason` (an AbortError DOMException unless the caller gave one), and never starts the work.
import { UsageError } from './errors.js';

/** How often an aborted run is interrupted again, for code that catches KeyboardInterrupt. */
const REINTERRUPT_MS = 100;
/** The promise of an aborted run that can be ended (`cancel`) rejects this long after the abort at the latest. */
export const ABORT_REJECT_MS = 100;
/**
 * How long an aborted run has to end by KeyboardInterrupt (keeping its session's state) before it is
 * ended by force: code that never reaches an interrupt check (CPython's `while True: pass`) or keeps
 * catching the interrupt.
 */
export const ABORT_CANCEL_MS = 2000;

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new UsageError('signal must be an AbortSignal');
  return signal;
}

/** What to do with a run when its signal aborts. */
export interface AbortHooks {
  /** Raises KeyboardInterrupt in the running guest (worker sandboxes). */
  interrupt?: () => void;
  /** Ends the run by force (terminates its worker). */
  cancel?: () => void;
  /** The promise rejected while the run still ends: `ending` settles when it has. */
  onAbandoned?: (ending: Promise<void>) => void;
}

/**
 * Runs `start` unless `signal` is already aborted. On abort, `interrupt` raises KeyboardInterrupt in
 * the guest, again every 100 ms until the run ends. With `cancel`, the promise rejects with the
 * signal's reason within ABORT_REJECT_MS while the run goes on ending (`onAbandoned`): by the
 * interrupt, or by `cancel` ABORT_CANCEL_MS after the abort. Without it, the promise rejects when
 * the run ends, bounded by the run's own limits.
 */
export async function abortable<T>(signal: AbortSignal | undefined, start: () => Promise<T>, hooks: AbortHooks = {}): Promise<T> {
  if (!signal) return start();
  signal.throwIfAborted();
  const { interrupt, cancel, onAbandoned } = hooks;
  let repeat: ReturnType<typeof setInterval> | undefined;
  let forced: ReturnType<typeof setTimeout> | undefined;
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  let abandon: (reason: unknown) => void = () => {};
  const abandoned = new Promise<never>((_, reject) => (abandon = reject));
  abandoned.catch(() => {});
  const onAbort = () => {
    if (!interrupt) return;
    interrupt();
    repeat = setInterval(interrupt, REINTERRUPT_MS);
    if (!cancel) return;
    forced = setTimeout(cancel, ABORT_CANCEL_MS);
    giveUp = setTimeout(() => abandon(signal.reason), ABORT_REJECT_MS);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const work = start().finally(() => {
    signal.removeEventListener('abort', onAbort);
    clearInterval(repeat);
    clearTimeout(forced);
    clearTimeout(giveUp);
  });
  try {
    const result = await Promise.race([work, abandoned]);
    signal.throwIfAborted();
    return result;
  } catch (e) {
    const ending = work.then(
      () => {},
      () => {},
    );
    if (e === signal.reason && signal.aborted) onAbandoned?.(ending);
    throw e;
  }
}

/** `work`, or the signal's reason as soon as it aborts (the work itself goes on). */
export async function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
