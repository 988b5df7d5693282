// The one worker pool, for every guest: at most `size` workers (started on demand, or all at once),
// a bounded queue of runs waiting for a free one, and a drain on close. What a worker is (a Python
// session's, or one that runs modules) and how a run goes on it is the caller's (Pool, WasmPool).
import { UsageError } from '../core/errors.js';

/** The pool's queue is full: shed load instead of growing memory. */
export class PoolOverloadError extends Error {
  override name = 'PoolOverloadError';
}

export function positiveInt(what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new UsageError(`${what} must be a positive integer`);
  return value;
}

export interface WorkerKind<W, J> {
  /** A new worker; usable at once (a run awaits its thread). */
  start(): W;
  /** Runs `job` on `worker`; settles the job's promise itself. */
  run(worker: W, job: J): Promise<void>;
  end(worker: W): Promise<void>;
}

export class WorkerPool<W, J> {
  private readonly workers: W[] = [];
  private readonly idle: W[] = [];
  private readonly queue: J[] = [];
  private running = 0;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    readonly size: number,
    private readonly maxQueue: number,
    private readonly kind: WorkerKind<W, J>,
  ) {}

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Starts every worker now rather than on first use; returns them. */
  startAll(): W[] {
    while (this.workers.length < this.size) this.idle.push(this.add());
    return [...this.workers];
  }

  /** Queues `job` (PoolOverloadError past maxQueue) and starts it on the next free worker. */
  push(job: J): void {
    if (this.closed) throw new UsageError('this pool is closed');
    if (this.queue.length >= this.maxQueue) throw new PoolOverloadError(`pool queue is full (${this.maxQueue} runs waiting); try again later`);
    this.queue.push(job);
    this.dispatch();
  }

  /** Takes `job` out of the queue if it has not started yet; true if it was waiting. */
  withdraw(job: J): boolean {
    const at = this.queue.indexOf(job);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    this.settle();
    return true;
  }

  /** Stops taking runs, lets queued and running ones finish, then ends every worker. */
  close(): Promise<void> {
    return (this.closing ??= this.drainAndEnd());
  }

  private async drainAndEnd(): Promise<void> {
    if (this.queue.length || this.running) await new Promise<void>((resolve) => (this.drained = resolve));
    this.idle.length = 0;
    await Promise.all(this.workers.splice(0).map((w) => this.kind.end(w)));
  }

  private add(): W {
    const worker = this.kind.start();
    this.workers.push(worker);
    return worker;
  }

  private dispatch(): void {
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.add() : null);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.running++;
      void this.kind.run(worker, job).finally(() => {
        this.running--;
        this.idle.push(worker);
        this.dispatch();
        this.settle();
      });
    }
  }

  private settle(): void {
    if (this.closed && !this.queue.length && !this.running) this.drained?.();
  }
}
