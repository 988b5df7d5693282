// Sessions as snapshots in Redis, so any worker can continue one. One writer at a time: a worker
// holds the session's lock (renewed while it runs) and its write-back succeeds only if it still
// holds it, so a worker that lost the lock (stalled, then replaced) cannot overwrite newer state.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sessionKeys } from './names.js';

const LOCK_TTL_MS = 10_000;
const LOCK_RENEW_MS = 3_000;
const LOCK_POLL_MS = 50;

const SAVE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'snapshot', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const TAKE_OVER = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;

export class SessionGoneError extends Error {
  override name = 'SessionGoneError';
}

/** Another writer holds the session for longer than we may wait: the job is retried later. */
export class SessionBusyError extends Error {
  override name = 'SessionBusyError';
}

export interface StoredSession {
  snapshot: Buffer | null;
  files: Record<string, string> | undefined;
  /** How long the session lives unused. */
  ttlMs: number;
}

export class SessionLock {
  private readonly renewer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly token: string,
  ) {
    this.renewer = setInterval(() => void this.redis.eval(RENEW, 1, this.key, this.token, LOCK_TTL_MS).catch(() => {}), LOCK_RENEW_MS);
    this.renewer.unref();
  }

  async release(): Promise<void> {
    clearInterval(this.renewer);
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }
}

export class RedisSessions {
  constructor(
    private readonly redis: Redis,
    private readonly queue: string,
  ) {}

  async create(id: string, files: Record<string, string> | undefined, ttlMs: number): Promise<void> {
    const { data } = sessionKeys(this.queue, id);
    await this.redis.multi().hset(data, 'version', 0, 'ttl', ttlMs, 'files', JSON.stringify(files ?? {})).pexpire(data, ttlMs).exec();
  }

  async delete(id: string): Promise<void> {
    const { data, lock } = sessionKeys(this.queue, id);
    await this.redis.del(data, lock);
  }

  /**
   * Waits for the session's lock. `owner` is the job id: a later attempt of the same job (after its
   * worker died) takes the lock over at once instead of waiting for it to expire.
   */
  async lock(id: string, owner: string, waitMs: number): Promise<SessionLock> {
    const { lock } = sessionKeys(this.queue, id);
    const token = `${owner}:${randomBytes(8).toString('hex')}`;
    const deadline = Date.now() + waitMs;
    for (;;) {
      if ((await this.redis.set(lock, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') return new SessionLock(this.redis, lock, token);
      const holder = await this.redis.get(lock);
      if (holder?.startsWith(`${owner}:`) && (await this.redis.eval(TAKE_OVER, 1, lock, holder, token, LOCK_TTL_MS)) === 1) {
        return new SessionLock(this.redis, lock, token);
      }
      if (Date.now() > deadline) throw new SessionBusyError(`session ${id} is busy with another run`);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  async load(id: string): Promise<StoredSession> {
    const { data } = sessionKeys(this.queue, id);
    const [snapshot, files, version, ttl] = await this.redis.hmgetBuffer(data, 'snapshot', 'files', 'version', 'ttl');
    if (version === null) throw new SessionGoneError(`no session "${id}" (it may have expired or been closed)`);
    return {
      snapshot: snapshot && snapshot.length ? snapshot : null,
      files: files ? JSON.parse(files.toString('utf8')) : undefined,
      ttlMs: Number(ttl?.toString() ?? 3_600_000),
    };
  }

  /** Writes the new snapshot if `lock` is still this writer's; false if it is not. */
  async save(id: string, lock: SessionLock, snapshot: Uint8Array, ttlMs: number): Promise<boolean> {
    const keys = sessionKeys(this.queue, id);
    const saved = await this.redis.eval(SAVE, 2, keys.data, keys.lock, lock.token, Buffer.from(snapshot), ttlMs);
    if (saved === -1) throw new SessionGoneError(`session "${id}" was closed during the run`);
    return saved === 1;
  }
}
