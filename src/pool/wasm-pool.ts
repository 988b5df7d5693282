// The one worker pool (worker-pool.ts) for the module guest: workers started on demand, each run in a
// fresh instance on the worker's Session (worker-main.ts). A run never blocks the caller's thread; a
// watchdog terminates a worker whose run outlives its deadline by WATCHDOG_MARGIN_MS (the in-wasm
// stop failed) and starts another. Granted host functions stay on this thread and may be async: the
// worker waits for them.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { monotonicMs } from '../core/clock.js';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import { emptyAudit } from '../core/audit.js';
import { checkRunOptions, resolveWasmLimits, type WasmRunOptions } from '../guests/wasi/options.js';
import type { Entry, RunTarget } from '../guests/wasi/guest.js';
import type { WasmErrorInfo, WasmRunResult, WasmValue } from '../guests/wasi/result.js';
import { lostWorkerError, ReplaceableWorker, spawnWorker, WATCHDOG_MARGIN_MS, watchRun } from './watched-run.js';
import { positiveInt, WorkerPool } from './worker-pool.js';
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
  thread: ReplaceableWorker;
  /** The running job's options (its host functions answer calls from the worker). */
  running: { id: number; options: WasmRunOptions } | null;
}

/** Refuses what cannot run in a worker, before the run is queued. */
function checkForWorker(options: WasmRunOptions): void {
  checkRunOptions(options);
  resolveWasmLimits(options.limits);
  if (typeof options.stdin === 'function') throw new UsageError("a stdin reader function runs only with isolation 'inline'; give stdin as a string or bytes");
}

/** A granted host function called from a worker: only for the job now running there, and only one it was granted. */
async function answerHostCall(slot: Slot, call: HostCallRequest): Promise<HostCallAnswer> {
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

function spawn(slot: Slot): Promise<Worker> {
  return spawnWorker(undefined, (call: HostCallRequest) => answerHostCall(slot, call)).then((w) => {
    w.unref(); // an idle pool never keeps the process alive
    return w;
  });
}

export class WasmPool {
  private readonly pool: WorkerPool<Slot, Job>;
  private nextId = 1;

  constructor(options: WasmPoolOptions = {}) {
    for (const key of Object.keys(options)) if (key !== 'size' && key !== 'maxQueue') throw new UsageError(`unknown option "${key}" (known: size, maxQueue)`);
    const size = positiveInt('size', options.size, availableParallelism());
    const maxQueue = positiveInt('maxQueue', options.maxQueue, 1024);
    this.pool = new WorkerPool(size, maxQueue, {
      start: () => {
        const slot = { running: null } as Slot;
        slot.thread = new ReplaceableWorker(() => spawn(slot));
        return slot;
      },
      run: (slot, job) => this.runOn(slot, job),
      end: (slot) => slot.thread.end(),
    });
  }

  get size(): number {
    return this.pool.size;
  }

  /** Starts every worker now rather than on first use. */
  async ready(): Promise<void> {
    await Promise.all(this.pool.startAll().map((s) => s.thread.get()));
  }

  /** Runs `entry` of a compiled module in a worker. Rejects with UsageError for invalid options. */
  execute(target: RunTarget, entry: Entry, options: WasmRunOptions): Promise<WasmRunResult> {
    return new Promise((resolve, reject) => {
      if (this.pool.closed) throw new UsageError('this pool is closed');
      checkForWorker(options);
      this.pool.push({ target, entry, options, resolve, reject });
    });
  }

  /** Stops taking runs, lets queued and running ones finish, then ends every worker. */
  close(): Promise<void> {
    return this.pool.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async runOn(slot: Slot, job: Job): Promise<void> {
    let worker: Worker;
    try {
      worker = await slot.thread.get();
    } catch (e) {
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
    const started = monotonicMs();
    worker.ref();
    const { end, stdout, stderr } = await watchRun(worker, message, timeoutMs + WATCHDOG_MARGIN_MS, { onStdoutBytes: options.onStdout, onStderrBytes: options.onStderr });
    worker.unref();
    slot.running = null;
    if (end.type === 'result') return job.resolve({ ...(end.result as WithoutOutput<WasmRunResult>), stdout, stderr });
    if (end.type === 'failed') return job.reject(end.usage ? new UsageError(end.message) : new Error(end.message));
    void slot.thread.replace(worker);
    const error = lostWorkerError(end.lost, `the run exceeded its ${timeoutMs} ms deadline`) as WasmErrorInfo;
    const usage = { fuel: 0, memoryPeakBytes: 0, wallMs: monotonicMs() - started };
    job.resolve({ ok: false, exitCode: EXIT_CODES[error.kind], stdout, stderr, error, usage, audit: emptyAudit() });
  }
}
