// A small producer for `pyfence worker`: enqueue a run (or a session's next run) and wait for its
// result. BullMQ and ioredis load on first connect, so importing pyfence does not pay for them.
import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Limits } from '../../core/limits.js';
import type { RunResultJson } from '../core/schemas.js';
import { requirePackages } from '../../engine/optional-package.js';
import { DEFAULT_QUEUE, RUN_JOB, SESSION_RUN_JOB } from './names.js';
import type { RunJobData, SessionRunJobData } from './protocol.js';
import { RedisSessions } from './redis-sessions.js';

export interface QueueClientOptions {
  /** BullMQ queue name. Default 'pyfence'. */
  queue?: string;
  /** How long `run` waits for a result before giving up (the job stays queued). Default 5 min. */
  waitMs?: number;
  /** How long an unused session is kept in Redis. Default 1 h. */
  sessionTtlMs?: number;
}

/** The job failed for good (invalid data, limits above the worker's, an unknown session), or never finished in time. */
export class QueueJobError extends Error {
  override name = 'QueueJobError';
}

const POLL_MIN_MS = 10;
const POLL_MAX_MS = 250;
/** Finished jobs are kept a while for inspection, then removed. */
const KEEP_FINISHED = { age: 3600 };

export class QueueClient {
  private constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly sessions: RedisSessions,
    private readonly options: Required<QueueClientOptions>,
  ) {}

  static async connect(redisUrl: string, options: QueueClientOptions = {}): Promise<QueueClient> {
    requirePackages(['bullmq', 'ioredis'], 'QueueClient');
    const [{ Queue }, { Redis }] = await Promise.all([import('bullmq'), import('ioredis')]);
    const resolved = { queue: DEFAULT_QUEUE, waitMs: 300_000, sessionTtlMs: 3_600_000, ...options };
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(resolved.queue, { connection: redis });
    await queue.waitUntilReady();
    return new QueueClient(queue, redis, new RedisSessions(redis, resolved.queue), resolved);
  }

  /** Runs `code` on some worker, in a fresh sandbox with that worker's grants. */
  async run(data: RunJobData): Promise<RunResultJson> {
    return this.result(await this.enqueue(RUN_JOB, data));
  }

  /** A session any worker can continue; its state lives in Redis between runs. */
  async createSession(files?: Record<string, string>): Promise<string> {
    const id = randomUUID();
    await this.sessions.create(id, files, this.options.sessionTtlMs);
    return id;
  }

  async runInSession(session: string, code: string, limits?: Limits): Promise<RunResultJson> {
    const data: SessionRunJobData = { session, code, ...(limits ? { limits } : {}) };
    return this.result(await this.enqueue(SESSION_RUN_JOB, data));
  }

  async closeSession(session: string): Promise<void> {
    await this.sessions.delete(session);
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }

  private enqueue(name: string, data: object): Promise<Job> {
    // A few retries with backoff cover a session whose lock is briefly held past our wait.
    return this.queue.add(name, data, { attempts: 3, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED });
  }

  /** Polls the job's state: robust across a Redis restart, where an event subscription could miss the end. */
  private async result(job: Job): Promise<RunResultJson> {
    const deadline = Date.now() + this.options.waitMs;
    let delay = POLL_MIN_MS;
    while (Date.now() < deadline) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        const done = await this.queue.getJob(job.id!);
        if (state === 'completed') return done!.returnvalue as RunResultJson;
        throw new QueueJobError(`job ${job.id} failed: ${done?.failedReason ?? 'unknown reason'}`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(POLL_MAX_MS, delay * 2);
    }
    throw new QueueJobError(`job ${job.id} did not finish within ${this.options.waitMs} ms (it stays queued)`);
  }
}

/** One run through the queue: connects, enqueues, waits for the result, disconnects. */
export async function enqueueRun(redisUrl: string, data: RunJobData, options?: QueueClientOptions): Promise<RunResultJson> {
  const client = await QueueClient.connect(redisUrl, options);
  try {
    return await client.run(data);
  } finally {
    await client.close();
  }
}
