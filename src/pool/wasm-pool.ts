// Worker threads for WebAssembly runs: a bounded set of workers (started on demand), a bounded
// queue, a fresh instance per run. A run never blocks the caller's thread; a watchdog terminates a
// worker whose run outlives its deadline by WATCHDOG_MARGIN_MS (the in-wasm stop failed) and starts
// another. Granted host functions stay on this thread and may be async: the worker waits for them.
import { STOP_TYPE } from '../core/stop.js';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import { emptyAudit } from '../core/audit.js';
import { checkRunOptions, resolveWasmLimits, type WasmRunOptions } from '../guests/wasi/options.js';
import type { Entry, RunTarget } from '../guests/wasi/guest.js';
import type { WasmErrorInfo, WasmRunResult, WasmValue } from '../guests/wasi/result.js';
import { blockingChannel, serveBlockingCalls } from '../core/blocking-call.js';
import { PoolOverloadError } from './pool.js';
import { siblingModule, startWorker } from '../core/thread.js';
import { WATCHDOG_MARGIN_MS } from './worker-session.js';
import { watchRun, type LostWorker } from './watched-run.js';
import type { CarriedRunOptions, FromWasmWorker, HostCallAnswer, HostCallRequest, WasmJob } from './wasm-protocol.js';

const WORKER_URL = siblingModule(import.meta.url, 'wasm-worker');

export interface WasmPoolOptions {
  /** Worker threads at most (each runs one module at a time). Default: one per core. */
  size?: number;
  /** Runs that may wait for a free worker; past it `run` rejects with PoolOverloadError. Default 1024. */
  maxQueue?: number;
}

interface Job {
  target: RunTarget;
  entry: Entry;
  options: WasmRunOptions;
  resolve: (r: WasmRunResult) => void;
  reject: (e: unknown) => void;
}

/** One worker thread and the run it is doing. */
interface Slot {
  worker: Promise<Worker>;
  /** The running job's options (its host functions answer calls from the worker). */
  running: { id: number; options: WasmRunOptions } | null;
}

function positiveInt(what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new UsageError(`${what} must be a positive integer`);
  return value;
}

/** Refuses what cannot run in a worker, before the run is queued. */
function checkForWorker(options: WasmRunOptions): void {
  checkRunOptions(options);
  resolveWasmLimits(options.limits);
  if (typeof options.stdin === 'function') throw new UsageError("a stdin reader function runs only with isolation 'inline'; give stdin as a string or bytes");
}

export class WasmPool {
  readonly size: number;
  private readonly maxQueue: number;
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private running = 0;
  private closed = false;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: WasmPoolOptions = {}) {
    for (const key of Object.keys(options)) if (key !== 'size' && key !== 'maxQueue') throw new UsageError(`unknown option "${key}" (known: size, maxQueue)`);
    this.size = positiveInt('size', options.size, availableParallelism());
    this.maxQueue = positiveInt('maxQueue', options.maxQueue, 1024);
  }

  /** Starts every worker now rather than on first use. */
  async ready(): Promise<void> {
    while (this.slots.length < this.size) this.idle.push(this.addSlot());
    await Promise.all(this.slots.map((s) => s.worker));
  }

  /** Runs `entry` of a compiled module in a worker. Rejects with UsageError for invalid options. */
  execute(target: RunTarget, entry: Entry, options: WasmRunOptions): Promise<WasmRunResult> {
    if (this.closed) return Promise.reject(new UsageError('this pool is closed'));
    try {
      checkForWorker(options);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(new PoolOverloadError(`pool queue is full (${this.maxQueue} runs waiting); try again later`));
    return new Promise((resolve, reject) => {
      this.queue.push({ target, entry, options, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops taking runs, lets queued and running ones finish, then ends every worker. */
  close(): Promise<void> {
    return (this.closing ??= this.drainAndEnd());
  }

  private async drainAndEnd(): Promise<void> {
    this.closed = true;
    if (this.queue.length || this.running) await new Promise<void>((resolve) => (this.drained = resolve));
    const workers = await Promise.allSettled(this.slots.splice(0).map((s) => s.worker));
    this.idle.length = 0;
    await Promise.all(workers.map((w) => (w.status === 'fulfilled' ? w.value.terminate() : undefined)));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private addSlot(): Slot {
    const slot = { running: null } as Slot;
    slot.worker = this.spawn(slot);
    slot.worker.catch(() => {}); // reported to the run that awaits it
    this.slots.push(slot);
    return slot;
  }

  private spawn(slot: Slot): Promise<Worker> {
    const channel = blockingChannel();
    serveBlockingCalls(channel.local, channel.signal, (call: HostCallRequest) => this.answerHostCall(slot, call));
    channel.local.unref();
    const worker = startWorker(WORKER_URL, { workerData: { hostPort: channel.port, hostSignal: channel.signal }, transferList: [channel.port] });
    worker.once('exit', () => channel.local.close());
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (msg: FromWasmWorker) => {
        worker.off('error', reject);
        if (msg.type !== 'ready') return reject(new Error(`unexpected first message from a wasm worker: ${msg.type}`));
        worker.unref(); // an idle pool never keeps the process alive
        resolve(worker);
      });
    });
  }

  private async answerHostCall(slot: Slot, call: HostCallRequest): Promise<HostCallAnswer> {
    // Only the job now running on that worker, and only a function it was granted.
    const fn = slot.running?.id === call.job ? slot.running.options.imports?.[call.key] : undefined;
    if (!fn || !Object.hasOwn(slot.running!.options.imports!, call.key)) return { error: `${call.key} is not granted to this run` };
    let value: unknown;
    try {
      value = await fn(...call.args);
    } catch (e) {
      return { error: (e as Error)?.message ?? String(e) };
    }
    // What crosses must be cloneable; the guest's side converts it to the import's type, as inline.
    if (value === undefined || value === null) return { value: undefined };
    if (!['number', 'bigint', 'boolean', 'string'].includes(typeof value)) return { error: `it returned ${typeof value === 'object' ? 'an object' : `a ${typeof value}`}, not a number or bigint` };
    return { value: value as WasmValue };
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.idle.pop() ?? (this.slots.length < this.size ? this.addSlot() : null);
      if (!slot) return;
      const job = this.queue.shift()!;
      this.running++;
      void this.runOn(slot, job).finally(() => {
        this.running--;
        slot.running = null;
        if (this.closed) {
          if (!this.queue.length && !this.running) this.drained?.();
        }
        this.idle.push(slot);
        this.dispatch();
      });
    }
  }

  private async runOn(slot: Slot, job: Job): Promise<void> {
    let worker: Worker;
    try {
      worker = await slot.worker;
      if (worker.threadId === -1) {
        // It ended while idle (a runtime failure): this run gets a new one rather than no answer.
        slot.worker = this.spawn(slot);
        worker = await slot.worker;
      }
    } catch (e) {
      slot.worker = this.spawn(slot); // a worker that failed to start is replaced for the next run
      slot.worker.catch(() => {});
      return job.reject(e);
    }
    const id = this.nextId++;
    slot.running = { id, options: job.options };
    const { options } = job;
    const stream = options.onStdout !== undefined || options.onStderr !== undefined;
    const carried: CarriedRunOptions = { ...options } as CarriedRunOptions;
    for (const key of ['imports', 'onStdout', 'onStderr'] as const) delete (carried as WasmRunOptions)[key];
    const message: WasmJob = {
      id,
      module: job.target.module,
      meta: job.target.meta,
      entry: job.entry,
      options: carried,
      hostImports: Object.keys(options.imports ?? {}),
      stream,
    };
    const timeoutMs = resolveWasmLimits(options.limits).timeoutMs;
    const started = performance.now();
    const streamed = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
    worker.ref();
    await new Promise<void>((done) => {
      const finish = () => {
        worker.unref();
        done();
      };
      const replace = (error: WasmErrorInfo) => {
        finish();
        void worker.terminate();
        slot.worker = this.spawn(slot);
        slot.worker.catch(() => {});
        const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');
        job.resolve({
          ok: false,
          exitCode: EXIT_CODES[error.kind],
          stdout: text(streamed.stdout),
          stderr: text(streamed.stderr),
          error,
          usage: { fuel: 0, memoryPeakBytes: 0, wallMs: performance.now() - started },
          audit: emptyAudit(),
        });
      };
      const onMessage = (msg: FromWasmWorker, end: () => void) => {
        if (msg.type === 'ready' || msg.id !== id) return;
        if (msg.type === 'result') {
          end();
          finish();
          job.resolve(msg.result);
        } else if (msg.type === 'failed') {
          end();
          finish();
          job.reject(msg.usage ? new UsageError(msg.message) : new Error(msg.message));
        } else {
          streamed[msg.type].push(msg.bytes);
          (msg.type === 'stdout' ? options.onStdout : options.onStderr)?.(msg.bytes);
        }
      };
      const onLost = (lost: LostWorker) => {
        if (lost.kind === 'timeout') {
          replace({ kind: 'timeout', type: STOP_TYPE.timeout, message: `the run exceeded its ${timeoutMs} ms deadline; the worker was terminated by the watchdog` });
        } else {
          replace({ kind: 'fault', type: 'WorkerError', message: lost.kind === 'error' ? `the worker failed: ${lost.error.message}` : 'the worker exited unexpectedly' });
        }
      };
      watchRun(worker, timeoutMs + WATCHDOG_MARGIN_MS, onMessage, onLost);
      worker.postMessage(message);
    });
  }
}
