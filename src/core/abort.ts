// Cancelling a run with an AbortSignal, as Node's own APIs do: an aborted signal rejects with its
// `reason` (an AbortError DOMException unless the caller gave one), and never starts the work.
import { UsageError } from './errors.js';

/** How often an aborted run is interrupted again, for code that catches KeyboardInterrupt. */
const REINTERRUPT_MS = 100;

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new UsageError('signal must be an AbortSignal');
  return signal;
}

/**
 * Runs `start` unless `signal` is already aborted. On abort, `interrupt` (when the run can be reached:
 * worker sandboxes) raises KeyboardInterrupt in the guest, again every 100 ms until the run ends;
 * the promise then rejects with the signal's reason. The run's own limits still bound it.
 */
export async function abortable<T>(signal: AbortSignal | undefined, start: () => Promise<T>, interrupt?: () => void): Promise<T> {
  if (!signal) return start();
  signal.throwIfAborted();
  let timer: ReturnType<typeof setInterval> | undefined;
  const onAbort = () => {
    if (!interrupt) return;
    interrupt();
    timer = setInterval(interrupt, REINTERRUPT_MS);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await start();
    signal.throwIfAborted();
    return result;
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearInterval(timer);
  }
}
