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
import { PoolOverloadError } from './pool.js';
import { spawnWorker, WATCHDOG_MARGIN_MS, watchRun } from './watched-run.js';
import type { CarriedRunOptions, HostCallAnswer, HostCallRequest, ToWorker, WithoutOutput } from './worker-protocol.js';

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
    return spawnWorker(undefined, (call: HostCallRequest) => this.answerHostCall(slot, call)).then((worker) => {
      worker.unref(); // an idle pool never keeps the process alive
      return worker;
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
    const { options } = job;
    slot.running = { id, options };
    const carried: CarriedRunOptions = { ...options } as CarriedRunOptions;
    for (const key of ['imports', 'onStdout', 'onStderr'] as const) delete (carried as WasmRunOptions)[key];
    const message: ToWorker = {
      type: 'module',
      id,
      module: job.target.module,
      meta: job.target.meta,
      entry: job.entry,
      options: carried,
      hostImports: Object.keys(options.imports ?? {}),
    };
    const timeoutMs = resolveWasmLimits(options.limits).timeoutMs;
    const started = performance.now();
    worker.ref();
    const { end, stdout, stderr } = await watchRun(worker, message, timeoutMs + WATCHDOG_MARGIN_MS, { onStdoutBytes: options.onStdout, onStderrBytes: options.onStderr });
    worker.unref();
    if (end.type === 'result') return job.resolve({ ...(end.result as WithoutOutput<WasmRunResult>), stdout, stderr });
    if (end.type === 'failed') return job.reject(end.usage ? new UsageError(end.message) : new Error(end.message));
    void worker.terminate();
    slot.worker = this.spawn(slot);
    slot.worker.catch(() => {});
    const error: WasmErrorInfo =
      end.lost.kind === 'timeout'
        ? { kind: 'timeout', type: STOP_TYPE.timeout, message: `the run exceeded its ${timeoutMs} ms deadline; the worker was terminated by the watchdog` }
        : { kind: 'fault', type: 'WorkerError', message: end.lost.kind === 'error' ? `the worker failed: ${end.lost.error.message}` : 'the worker exited unexpectedly' };
    const usage = { fuel: 0, memoryPeakBytes: 0, wallMs: performance.now() - started };
    job.resolve({ ok: false, exitCode: EXIT_CODES[error.kind], stdout, stderr, error, usage, audit: emptyAudit() });
  }
}
