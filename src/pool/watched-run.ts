// One run on a worker thread, watched: its messages go to the caller until it ends the run; if the
// worker errs or exits first, or the run outlives its budget (the watchdog), listening stops and the
// caller is told how the worker was lost, so that it can terminate and replace it.
import type { Worker } from 'node:worker_threads';

export type LostWorker = { kind: 'timeout' } | { kind: 'error'; error: Error } | { kind: 'exit' };

/** `budgetMs`: Infinity for no watchdog. `onMessage` calls `end()` once the run's answer has come. */
export function watchRun<M>(
  worker: Worker,
  budgetMs: number,
  onMessage: (msg: M, end: () => void) => void,
  onLost: (lost: LostWorker) => void,
): void {
  const end = () => {
    clearTimeout(watchdog);
    worker.off('message', message);
    worker.off('error', error);
    worker.off('exit', exit);
  };
  const lose = (lost: LostWorker) => {
    end();
    onLost(lost);
  };
  const message = (msg: M) => onMessage(msg, end);
  const error = (e: Error) => lose({ kind: 'error', error: e });
  const exit = () => lose({ kind: 'exit' });
  const watchdog = Number.isFinite(budgetMs) ? setTimeout(() => lose({ kind: 'timeout' }), budgetMs) : undefined;
  worker.on('message', message);
  worker.on('error', error);
  worker.on('exit', exit);
}
