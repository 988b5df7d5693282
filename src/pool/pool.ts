// A pool of fresh sandboxes: every `run` gets a new interpreter, prepared ahead of time and replaced
// off the hot path. Inline pools keep pre-created interpreters on the calling thread; worker pools are
// the one worker pool (worker-pool.ts) with one Python session per worker thread, in parallel.
import { availableParallelism } from 'node:os';
import type { ModuleVariant } from '../engine/abi.js';
import { UsageError } from '../core/errors.js';
import { resolveInterpreterLimits, resolveSandboxOptions, type ResolvedSandboxOptions, type SandboxOptions } from '../api/options.js';
import type { RunResult } from '../guests/python-common/result.js';
import { Sandbox, type RunOptions } from '../api/sandbox.js';
import { openInline, openWorker } from '../api/sessions.js';
import { hostBridge } from '../capabilities/resolved-options.js';
import { resolveProgramSpec, type ProgramSpec } from '../guests/python-common/program.js';
import { pythonEngine, type PythonEngine } from '../guests/registry.js';
import type { Session } from '../session/session.js';
import { abortable, checkSignal } from '../core/abort.js';
import type { WorkerSession } from './worker-session.js';
import type { RunFilesRequest } from './run-files.js';
import { PoolOverloadError, positiveInt, WorkerPool } from './worker-pool.js';

export { PoolOverloadError };

/** A pool run's options: worker pools also take files for this run only, and give back what it wrote. */
export interface PoolRunOptions extends RunOptions {
  /** Worker pools only: files written for this run, and a directory whose files come back. */
  files?: RunFilesRequest;
}

export interface PoolOptions extends SandboxOptions {
  /** Interpreters kept ready (inline) or worker threads (worker). Default 4 inline, one per core for workers. */
  size?: number;
  /** Runs that may wait for a free worker; past it `run` rejects with PoolOverloadError. Default 1024. */
  maxQueue?: number;
}

interface Job {
  code: string;
  options: PoolRunOptions;
  program: ProgramSpec;
  /** Set while the job runs: raises KeyboardInterrupt in it; `cancel` ends it by terminating its worker. */
  interrupt?: () => void;
  cancel?: () => void;
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
}

const VARIANT: ModuleVariant = 'metered';

export class Pool {
  private readonly resolved: ResolvedSandboxOptions;
  private readonly engine: PythonEngine;
  private readonly sandboxOptions: SandboxOptions;
  private readonly bridge;
  private readonly size: number;
  private readonly spare: Session[] = [];
  /** Worker pools: a Python session per worker thread, all started at once. */
  private readonly workers: WorkerPool<Promise<WorkerSession>, Job> | null = null;
  private readonly started: Promise<WorkerSession>[] = [];
  private closed = false;

  constructor(options: PoolOptions = {}) {
    const { size, maxQueue, ...sandboxOptions } = options;
    this.sandboxOptions = sandboxOptions;
    this.resolved = resolveSandboxOptions(sandboxOptions);
    this.engine = pythonEngine(this.resolved.engine);
    this.engine.check(this.resolved.limits);
    this.bridge = hostBridge(this.resolved);
    const worker = this.resolved.isolation === 'worker';
    this.size = positiveInt('size', size, worker ? availableParallelism() : 4);
    const queue = positiveInt('maxQueue', maxQueue, 1024);
    if (worker) {
      this.workers = new WorkerPool(this.size, queue, {
        start: () => {
          const session = openWorker(this.resolved, this.bridge, VARIANT);
          session.catch(() => {}); // reported to the runs that await it
          return session;
        },
        run: (session, job) => this.runOnWorker(session, job),
        end: async (session) => (await session.catch(() => null))?.dispose(),
      });
      this.started = this.workers.startAll();
    } else {
      for (let i = 0; i < this.size; i++) this.spare.push(this.openSpare(true));
    }
  }

  get isolation() {
    return this.resolved.isolation;
  }

  /** Resolves when every worker has started (inline pools are ready at once). */
  async ready(): Promise<void> {
    await Promise.all(this.started);
  }

  /**
   * Runs `code` in a fresh sandbox with the pool's grants; `options.limits` narrows the pool's limits.
   * `options.signal` cancels it: a queued run leaves the queue, a running one (worker pools) gets a
   * KeyboardInterrupt, and its worker is terminated if it has not ended 100 ms later; the promise rejects with the signal's reason.
   */
  async run(code: string, options: PoolRunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new UsageError('this pool is closed');
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    resolveInterpreterLimits(this.resolved.limits, options.limits);
    const program = this.engine.program(resolveProgramSpec(options.inputs, options.filename), options.filename !== undefined);
    const signal = checkSignal(options.signal);
    if (options.files && this.resolved.isolation === 'inline') throw new UsageError("files for one run need a pool with isolation 'worker'");
    if (this.resolved.isolation === 'inline') return abortable(signal, async () => this.runInline(code, options, program));
    signal?.throwIfAborted();
    const workers = this.workers!;
    let job!: Job;
    const queued = new Promise<RunResult>((resolve, reject) => {
      job = { code, options, program, resolve, reject };
    });
    workers.push(job);
    const leaveQueue = () => {
      if (workers.withdraw(job)) job.reject(signal!.reason);
    };
    signal?.addEventListener('abort', leaveQueue, { once: true });
    try {
      // A worker whose run was abandoned goes back to the pool once the run has ended.
      return await abortable(signal, () => queued, { interrupt: () => job.interrupt?.(), cancel: () => job.cancel?.() });
    } finally {
      signal?.removeEventListener('abort', leaveQueue);
    }
  }

  /** A persistent sandbox with the pool's options (its globals live across runs); dispose it when done. */
  session(): Promise<Sandbox> {
    if (this.closed) return Promise.reject(new UsageError('this pool is closed'));
    return Sandbox.create(this.sandboxOptions);
  }

  /** `await using pool = new Pool()`: closed (drained) at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Stops taking runs, lets queued and running ones finish, then releases every interpreter and worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.spare.splice(0)) s.dispose();
    await this.workers?.close();
  }

  /** `warm`: touches the pages its first run would fault in (MicroPython). */
  private openSpare(warm: boolean): Session {
    const session = openInline(this.resolved, this.bridge, VARIANT);
    if (warm) session.warm();
    return session;
  }

  private runInline(code: string, options: RunOptions, program: ProgramSpec): RunResult {
    const session = this.spare.pop() ?? this.openSpare(false);
    const result = session.run(code, resolveInterpreterLimits(this.resolved.limits, options.limits), options, program);
    // A fresh interpreter and files for a later run, prepared when the caller's turn is over (also
    // after a stop: the interpreter that replaced the stopped one still has this run's files).
    setImmediate(() => {
      if (this.closed) return session.dispose();
      session.renew();
      this.spare.push(session);
    });
    return result;
  }

  private async runOnWorker(session: Promise<WorkerSession>, job: Job): Promise<void> {
    let worker: WorkerSession;
    try {
      worker = await session;
    } catch (e) {
      return job.reject(e);
    }
    job.interrupt = () => worker.interrupt();
    job.cancel = () => worker.cancel();
    const limits = resolveInterpreterLimits(this.resolved.limits, job.options.limits);
    await worker.run(job.code, limits, job.options, true, job.program, job.options.files).then(job.resolve, job.reject);
  }
}
