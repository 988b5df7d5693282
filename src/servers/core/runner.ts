// What every server runs code with: the grants its operator chose, fresh sandboxes on a worker pool
// (a run never blocks the server's thread), behind one gate that bounds concurrency and queueing.
import { UsageError } from '../../core/errors.js';
import { resolveSandboxOptions, type SandboxOptions } from '../../api/options.js';
import type { Limits, ResolvedLimits } from '../../core/limits.js';
import type { RunResult } from '../../guests/python-common/result.js';
import { Sandbox } from '../../api/sandbox.js';
import { Pool } from '../../pool/pool.js';
import { requestFiles, type RequestFiles } from './files.js';
import { Gate } from './gate.js';
import { narrowLimits } from './limits.js';

export interface RunRequest {
  code: string;
  /** Lower limits for this run; never above the server's. */
  limits?: Limits;
  /** In-memory files the run starts with. */
  files?: RequestFiles;
}

export interface RunnerOptions {
  /** Grants and limits: from the server's flags only. */
  grants: SandboxOptions;
  /** Runs at once (worker threads). */
  concurrency: number;
  /** Runs that may wait for a slot; past it calls fail with OverloadError. */
  maxQueue: number;
}

export class Runner {
  readonly limits: ResolvedLimits;
  readonly gate: Gate;
  readonly grants: SandboxOptions;
  private readonly pool: Pool;

  constructor(options: RunnerOptions) {
    this.grants = { ...options.grants, isolation: 'worker' };
    this.limits = resolveSandboxOptions(this.grants).limits;
    this.gate = new Gate(options.concurrency, options.maxQueue);
    // The gate does the queueing; the pool only ever sees as many runs as it has workers.
    this.pool = new Pool({ ...this.grants, size: options.concurrency, maxQueue: options.concurrency });
  }

  ready(): Promise<void> {
    return this.pool.ready();
  }

  async run(request: RunRequest): Promise<RunResult> {
    if (typeof request.code !== 'string') throw new UsageError('code must be a string');
    const limits = narrowLimits(this.limits, request.limits);
    const files = requestFiles(this.grants, request.files);
    if (files === this.grants.files) return this.gate.run(() => this.pool.run(request.code, { limits }));
    // The pool's interpreters share the server's files; a run with its own gets its own sandbox.
    return this.gate.run(async () => {
      const sandbox = await Sandbox.create({ ...this.grants, files });
      try {
        return await sandbox.run(request.code, { limits });
      } finally {
        sandbox.dispose();
      }
    });
  }

  /** Lets queued and running work finish, then releases the workers. */
  async close(): Promise<void> {
    await this.gate.idle();
    await this.pool.close();
  }
}
