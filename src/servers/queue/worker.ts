// `pyfence worker`: consumes the queue with the shared runner. Jobs whose data is invalid, or that
// ask for more than the worker's limits, fail at once (no retries); a worker killed mid-job loses
// nothing, since BullMQ hands a stalled job to another worker.
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type * as z from 'zod';
import { formatIssues } from '../core/issues.js';
import { pythonResultJson } from '../core/result-json.js';
import { UsageError } from '../../core/errors.js';
import { SnapshotError } from '../../engine/snapshot.js';
import { Sandbox } from '../../api/sandbox.js';
import { requestFiles } from '../core/files.js';
import { narrowLimits } from '../core/limits.js';
import { Runner, type RunnerOptions } from '../core/runner.js';
import type { RunResultJson } from '../core/schemas.js';
import { DEFAULT_QUEUE, RUN_JOB, RunJobSchema, SESSION_RUN_JOB, SessionRunJobSchema, type SessionRunJobData } from './protocol.js';
import { RedisSessions, SessionGoneError } from './redis-sessions.js';
import { OutageLog } from './outage-log.js';
import { watchOutput } from '../core/output-so-far.js';

export interface QueueWorkerOptions extends Omit<RunnerOptions, 'maxQueue'> {
  redisUrl: string;
  queue?: string;
  /** A job whose worker stops renewing its lock for this long is given to another worker. Default 30 s. */
  stallMs?: number;
  /** Where the one line per Redis outage goes. Default stderr. */
  log?: (line: string) => void;
}

export interface RunningWorker {
  /** This worker's name, recorded on each job it takes (`job.processedBy`). */
  name: string;
  /** Resolves when the worker has connected and waits for jobs. */
  ready: Promise<void>;
  /**
   * Takes no more jobs, lets the ones in progress finish while Redis answers (bounded by the run's
   * time limit), and disconnects: a job still in hand then goes back to the queue when its lock
   * expires. Resolves within a few seconds when Redis is unreachable (BullMQ's own lock and stall
   * timers may then keep the event loop alive for up to the stall timeout: `pyfence worker` exits).
   */
  close(): Promise<void>;
}

/** How long a session run may wait for the run before it on the same session. */
const SESSION_WAIT_MARGIN_MS = 5_000;
/** How long a stop waits for BullMQ when Redis does not answer. */
const UNREACHABLE_CLOSE_MS = 1_500;
/** Beyond the run's own time limit, how long a stop waits for the job in hand to be recorded. */
const CLOSE_MARGIN_MS = 3_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function parse<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new UnrecoverableError(`invalid job data: ${formatIssues(parsed.error, 'data')}`);
}

export function startQueueWorker(options: QueueWorkerOptions): RunningWorker {
  const queue = options.queue ?? DEFAULT_QUEUE;
  const runner = new Runner({ ...options, maxQueue: options.concurrency });
  const outages = new OutageLog(options.log ?? ((line) => process.stderr.write(`${line}\n`)));
  // BullMQ needs a connection that retries forever: a restarted Redis must not end the worker. Their
  // errors are the outage log's (without a listener, ioredis prints each retry's error).
  // Once stopping, no connection retries (BullMQ's own copies of `connection` included): a retry
  // timer would keep the process alive while Redis is away.
  let stopping = false;
  const redisOptions = { maxRetriesPerRequest: null, retryStrategy: (times: number) => (stopping ? null : Math.min(times * 200, 2_000)) };
  const connection = new Redis(options.redisUrl, redisOptions);
  const commands = new Redis(options.redisUrl, redisOptions);
  for (const redis of [connection, commands]) {
    redis.on('error', (e: Error) => outages.error(e));
    redis.on('ready', () => outages.up());
  }
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
        return pythonResultJson(result, runner.defaultEngine);
      } finally {
        sandbox.dispose();
      }
    } finally {
      await lock.release();
    }
  }

  /** A run job, reporting its output so far as the job's progress (`job.progress`: {bytes, tail}). */
  async function runWithProgress(job: Job): Promise<RunResultJson> {
    const data = parse(RunJobSchema, job.data);
    const watch = watchOutput((p) => void job.updateProgress(p).catch(() => {}));
    try {
      return await runner.run(data, watch);
    } finally {
      watch.stop();
    }
  }

  async function processJob(job: Job): Promise<RunResultJson> {
    try {
      if (job.name === RUN_JOB) return await runWithProgress(job);
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
  worker.on('error', (e) => outages.error(e));
  const ready = runner.ready().then(async () => {
    // Ends with an error only when its connection is given up, which is a stop's doing.
    worker.run().catch((e: Error) => (stopping ? undefined : outages.error(e)));
    await worker.waitUntilReady();
  });
  ready.catch(() => {}); // a stop before Redis ever answered: the caller may no longer be waiting
  return {
    name,
    ready,
    close: async () => {
      // With Redis answering, the job in hand finishes and is recorded; without, waiting cannot help.
      const reachable = connection.status === 'ready';
      stopping = !reachable;
      const waitMs = reachable ? Math.min(runner.limits.timeoutMs, 10 * 60_000) + CLOSE_MARGIN_MS : UNREACHABLE_CLOSE_MS;
      const closed = worker.close().then(() => true, () => true);
      const clean = await Promise.race([closed, sleep(waitMs).then(() => false)]);
      stopping = true;
      if (!clean) void worker.close(true).catch(() => {});
      connection.disconnect();
      commands.disconnect();
      await Promise.race([runner.close(), sleep(UNREACHABLE_CLOSE_MS)]);
    },
  };
}
