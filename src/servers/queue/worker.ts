// `pyfence worker`: consumes the queue with the shared runner. Jobs whose data is invalid, or that
// ask for more than the worker's limits, fail at once (no retries); a worker killed mid-job loses
// nothing, since BullMQ hands a stalled job to another worker.
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type * as z from 'zod';
import { UsageError } from '../../core/errors.js';
import { SnapshotError } from '../../engine/snapshot.js';
import { Sandbox } from '../../api/sandbox.js';
import { requestFiles } from '../core/files.js';
import { narrowLimits } from '../core/limits.js';
import { Runner, type RunnerOptions } from '../core/runner.js';
import type { RunResultJson } from '../core/schemas.js';
import { DEFAULT_QUEUE, RUN_JOB, RunJobSchema, SESSION_RUN_JOB, SessionRunJobSchema, type SessionRunJobData } from './protocol.js';
import { RedisSessions, SessionGoneError } from './redis-sessions.js';

export interface QueueWorkerOptions extends Omit<RunnerOptions, 'maxQueue'> {
  redisUrl: string;
  queue?: string;
  /** A job whose worker stops renewing its lock for this long is given to another worker. Default 30 s. */
  stallMs?: number;
}

export interface RunningWorker {
  /** This worker's name, recorded on each job it takes (`job.processedBy`). */
  name: string;
  /** Resolves when the worker has connected and waits for jobs. */
  ready: Promise<void>;
  /** Finishes the jobs in progress, takes no more, and disconnects. */
  close(): Promise<void>;
}

/** How long a session run may wait for the run before it on the same session. */
const SESSION_WAIT_MARGIN_MS = 5_000;

function parse<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new UnrecoverableError(`invalid job data: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ')}`);
}

export function startQueueWorker(options: QueueWorkerOptions): RunningWorker {
  const queue = options.queue ?? DEFAULT_QUEUE;
  const runner = new Runner({ ...options, maxQueue: options.concurrency });
  // BullMQ needs a connection that retries forever: a restarted Redis must not end the worker.
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const commands = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const sessions = new RedisSessions(commands, queue);
  const stallMs = options.stallMs ?? 30_000;

  async function runSession(job: Job, data: SessionRunJobData): Promise<RunResultJson> {
    const limits = narrowLimits(runner.limits, data.limits);
    const waitMs = Math.min(runner.limits.timeoutMs, 10 * 60_000) + SESSION_WAIT_MARGIN_MS;
    const lock = await sessions.lock(data.session, job.id!, waitMs);
    try {
      const stored = await sessions.load(data.session);
      const sandbox = stored.snapshot
        ? await Sandbox.restore(stored.snapshot, runner.grants)
        : await Sandbox.create({ ...runner.grants, files: requestFiles(runner.grants, stored.files) });
      try {
        const result = await runner.gate.run(() => sandbox.run(data.code, { limits }));
        if (!(await sessions.save(data.session, lock, await sandbox.snapshot(), stored.ttlMs))) {
          throw new UnrecoverableError(`lost session ${data.session} to another writer; this run's state was not saved`);
        }
        return result.toJSON();
      } finally {
        sandbox.dispose();
      }
    } finally {
      await lock.release();
    }
  }

  async function processJob(job: Job): Promise<RunResultJson> {
    try {
      if (job.name === RUN_JOB) return (await runner.run(parse(RunJobSchema, job.data))).toJSON();
      if (job.name === SESSION_RUN_JOB) return await runSession(job, parse(SessionRunJobSchema, job.data));
    } catch (e) {
      // Retrying cannot help these: the same input fails the same way.
      if (e instanceof UsageError || e instanceof SessionGoneError || e instanceof SnapshotError) throw new UnrecoverableError(e.message);
      throw e;
    }
    throw new UnrecoverableError(`unknown job name "${job.name}" (known: ${RUN_JOB}, ${SESSION_RUN_JOB})`);
  }

  const name = `${hostname()}:${process.pid}`;
  const worker = new Worker(queue, processJob, {
    connection,
    name,
    concurrency: options.concurrency,
    lockDuration: stallMs,
    stalledInterval: Math.max(500, Math.floor(stallMs / 2)),
    autorun: false,
  });
  worker.on('error', (e) => process.stderr.write(`pyfence worker: ${e.message}\n`));
  const ready = runner.ready().then(async () => {
    void worker.run();
    await worker.waitUntilReady();
  });
  return {
    name,
    ready,
    close: async () => {
      await worker.close();
      await runner.close();
      connection.disconnect();
      commands.disconnect();
    },
  };
}
