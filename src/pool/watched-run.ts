// Worker threads on the main thread's side, for every guest: starting one on the one entry
// (worker-main.ts) with its host-call channel, and one run on it, watched: its streamed output is
// decoded and passed on until the run's answer comes; if the worker errs or exits first, or the run
// outlives its budget (the watchdog), listening stops and the caller is told how the worker was
// lost, so that it can terminate and replace it.
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { blockingChannel, serveBlockingCalls } from '../core/blocking-call.js';
import type { ErrorInfo } from '../core/errors.js';
import type { OutputCallbacks } from '../core/output.js';
import { stopInfo } from '../core/stop.js';
import { siblingModule, startWorker } from '../core/thread.js';
import type { FromWorker, OutputBatch, ToWorker, WorkerData } from './worker-protocol.js';

/** How long after the run's own deadline the watchdog waits before terminating the worker. */
export const WATCHDOG_MARGIN_MS = 1000;

const WORKER_URL = siblingModule(import.meta.url, 'worker-main');

export type LostWorker = { kind: 'timeout' } | { kind: 'error'; error: Error } | { kind: 'exit' };

/** Starts a worker; `answer` serves its host calls. Resolves once it is ready. */
export function spawnWorker<Q, A>(session: WorkerData['session'], answer: (call: Q) => Promise<A>, resourceLimits?: ResourceLimits): Promise<Worker> {
  const channel = blockingChannel();
  serveBlockingCalls(channel.local, channel.signal, answer);
  channel.local.unref();
  const workerData: WorkerData = { session, hostPort: channel.port, hostSignal: channel.signal };
  const worker = startWorker(WORKER_URL, { workerData, transferList: [channel.port], resourceLimits });
  worker.once('exit', () => channel.local.close());
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (msg: FromWorker) => {
      worker.off('error', reject);
      if (msg.type === 'ready') resolve(worker);
      else reject(new Error(`unexpected first message from a worker: ${msg.type}`));
    });
  });
}

/**
 * A worker thread that is replaced when lost: in the background, so a killed run returns at once,
 * and the next run awaits the new one. One that failed to start, or ended while idle (a runtime
 * failure), is started again for the next run rather than leaving it without an answer.
 */
export class ReplaceableWorker {
  private current: Promise<Worker>;

  constructor(
    private readonly spawn: () => Promise<Worker>,
    first?: Worker,
  ) {
    this.current = first ? Promise.resolve(first) : this.started();
  }

  /** The worker for the next run (rejects if it cannot start; the run after tries again). */
  async get(): Promise<Worker> {
    let worker: Worker;
    try {
      worker = await this.current;
    } catch (e) {
      this.current = this.started();
      throw e;
    }
    if (worker.threadId !== -1) return worker;
    this.current = this.started();
    return this.current;
  }

  /** Terminates `worker` (its run was lost or cancelled) and starts the next one, unless `last`. */
  async replace(worker: Worker, last = false): Promise<void> {
    if (!last) this.current = this.started();
    await worker.terminate();
  }

  /** Terminates the current worker for good. */
  async end(): Promise<void> {
    const worker = await this.current.catch(() => null);
    await worker?.terminate();
  }

  private started(): Promise<Worker> {
    const worker = this.spawn();
    worker.catch(() => {}); // reported to the run that awaits it
    return worker;
  }
}

/** The error of a run whose worker was lost; `deadline` words the run's time limit as its guest does. */
export function lostWorkerError(lost: LostWorker, deadline: string): ErrorInfo {
  if (lost.kind === 'timeout') return stopInfo('timeout', `${deadline}; the worker was terminated by the watchdog`);
  return { kind: 'fault', type: 'SandboxFault', message: lost.kind === 'error' ? `the worker failed: ${lost.error.message}` : 'the worker exited unexpectedly' };
}

/** How a watched run ended, with the output it streamed (all of it when the run answered). */
export interface WatchedEnd {
  end: Extract<FromWorker, { type: 'result' | 'failed' }> | { type: 'lost'; lost: LostWorker };
  stdout: string;
  stderr: string;
}

/**
 * Posts `message` (a run) and watches it. `budgetMs`: Infinity for no watchdog. Output streams to
 * `output` as it comes, so a run the watchdog kills still returns what it printed.
 */
export function watchRun(worker: Worker, message: Extract<ToWorker, { type: 'run' | 'module' }>, budgetMs: number, output: OutputCallbacks): Promise<WatchedEnd> {
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const text = { stdout: '', stderr: '' };
  const put = (type: 'stdout' | 'stderr', bytes: Uint8Array, final = false) => {
    const chunk = decoders[type].decode(bytes, { stream: !final });
    text[type] += chunk;
    if (chunk) (type === 'stdout' ? output.onStdout : output.onStderr)?.(chunk);
  };
  return new Promise((resolve) => {
    const end = (how: WatchedEnd['end']) => {
      clearTimeout(watchdog);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      put('stdout', new Uint8Array(0), true);
      put('stderr', new Uint8Array(0), true);
      resolve({ end: how, ...text });
    };
    const onMessage = (msg: FromWorker) => {
      if (msg.type === 'ready' || msg.id !== message.id) return;
      if (msg.type === 'stdout' || msg.type === 'stderr') received(msg);
      else if (msg.type === 'result' || msg.type === 'failed') {
        if (msg.type === 'result' && msg.tail) received(msg.tail);
        end(msg);
      }
    };
    const received = ({ type, bytes }: OutputBatch) => {
      (type === 'stdout' ? output.onStdoutBytes : output.onStderrBytes)?.(bytes);
      put(type, bytes);
    };
    const onError = (error: Error) => end({ type: 'lost', lost: { kind: 'error', error } });
    const onExit = () => end({ type: 'lost', lost: { kind: 'exit' } });
    const watchdog = Number.isFinite(budgetMs) ? setTimeout(() => end({ type: 'lost', lost: { kind: 'timeout' } }), budgetMs) : undefined;
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(message);
  });
}
