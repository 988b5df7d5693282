// Bounded concurrency with a bounded queue: past the queue, callers are refused at once (shed load)
// instead of piling up memory and latency.

/** Every slot is busy and the queue is full. */
export class OverloadError extends Error {
  override name = 'OverloadError';
}

export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly maxRunning: number,
    readonly maxQueued: number,
  ) {}

  /** Runs `task` when a slot is free; throws OverloadError when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxQueued) throw this.overload();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Whether a run asked for now would be refused (every slot busy, the queue full). */
  get full(): boolean {
    return this.running >= this.maxRunning && this.waiting.length >= this.maxQueued;
  }

  /** The error a refused caller gets. */
  overload(): OverloadError {
    return new OverloadError(`server busy: ${this.running} runs in progress and ${this.waiting.length} waiting`);
  }

  get busy(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) return next(); // the slot passes straight to the next caller
    this.running--;
    if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
