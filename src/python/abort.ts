// Cancelling a run with an AbortSignal, as Node's own APIs do: an aborted signal rejects with its
// `reason` (an AbortError DOMException unless the caller gave one), and never starts the work.
import { UsageError } from './errors.js';

/** How often an aborted run is interrupted again, for code that catches KeyboardInterrupt. */
const REINTERRUPT_MS = 25;
/**
 * How long an aborted run has to end by KeyboardInterrupt before it is ended by force (`cancel`):
 * an abort ends any run within about 100 ms, also code that never reaches an interrupt check
 * (CPython's `while True: pass`) or keeps catching the interrupt.
 */
export const ABORT_GRACE_MS = 100;

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new UsageError('signal must be an AbortSignal');
  return signal;
}

/**
 * Runs `start` unless `signal` is already aborted. On abort, `interrupt` (when the run can be reached:
 * worker sandboxes) raises KeyboardInterrupt in the guest, again every 25 ms until the run ends, and
 * `cancel` ends it by force if it is still running ABORT_GRACE_MS after the abort; the promise then
 * rejects with the signal's reason. Without them, the run's own limits bound it.
 */
export async function abortable<T>(signal: AbortSignal | undefined, start: () => Promise<T>, interrupt?: () => void, cancel?: () => void): Promise<T> {
  if (!signal) return start();
  signal.throwIfAborted();
  let timer: ReturnType<typeof setInterval> | undefined;
  let forced: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    if (!interrupt) return;
    interrupt();
    timer = setInterval(interrupt, REINTERRUPT_MS);
    if (cancel) forced = setTimeout(cancel, ABORT_GRACE_MS);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await start();
    signal.throwIfAborted();
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearInterval(timer);
    clearTimeout(forced);
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
