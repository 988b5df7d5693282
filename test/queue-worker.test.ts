// `pyfence worker` processes on a real redis-server: shared queue, a worker killed mid-job, sessions
// moving between workers as snapshots, and a Redis restart with jobs still queued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, type Job } from 'bullmq';
import { QueueClient, QueueJobError, enqueueRun } from '../src/index.js';
import { spawnSync } from 'node:child_process';
import { startCli, startRedis, type RedisServer, type Started } from './process-helpers.js';
import { HELLO_WAT } from './support/hello-wat.js';

// A user's machine may lack redis-server (Debian: apt-get install redis-server); CI installs it
// (.ci/run) and must never skip these.
const NO_REDIS =
  !process.env.CI && spawnSync('redis-server', ['--version']).error ? 'redis-server is not installed (apt-get install redis-server)' : false;

const WORKER_FLAGS = ['--concurrency', '1', '--stall-timeout', '2s', '--timeout', '5s'];
const DONE_WITHIN_MS = 60_000;

const sleepCode = (s: number, tag: string | number) => `import time\ntime.sleep(${s})\nprint("job", ${JSON.stringify(String(tag))})`;

describe('pyfence worker on Redis', { skip: NO_REDIS }, () => {
  let redis: RedisServer;
  let queue: Queue;
  let client: QueueClient;
  const workers = new Map<string, Started>();

  async function startWorker(): Promise<string> {
    const w = await startCli(['worker', '--redis', redis.url, ...WORKER_FLAGS], /worker: (\S+) ready on queue/);
    workers.set(w.match[1], w);
    return w.match[1];
  }

  /** Polls until the job has finished (bounded), then returns it as stored. */
  async function finished(job: Job): Promise<Job> {
    const deadline = Date.now() + DONE_WITHIN_MS;
    while (Date.now() < deadline) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return (await queue.getJob(job.id!))!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${job.id} not finished within ${DONE_WITHIN_MS} ms`);
  }

  before(async () => {
    redis = await startRedis();
    // Three workers: the session and SIGKILL cases each take one away, and two must remain to share.
    await Promise.all([startWorker(), startWorker(), startWorker()]);
    queue = new Queue('pyfence', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    client = await QueueClient.connect(redis.url);
  });
  after(async () => {
    await client?.close();
    await queue?.close();
    await Promise.all([...workers.values()].map((w) => w.stop('SIGKILL')));
    await redis?.stop();
  });

  it('two workers share one queue; any BullMQ producer can enqueue "run" jobs', async () => {
    const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => queue.add('run', { code: sleepCode(0.3, i) })));
    const done = await Promise.all(jobs.map(finished));
    done.forEach((job, i) => assert.equal(job.returnvalue.stdout, `job ${i + 1}\n`));
    assert.ok(new Set(done.map((j) => j.processedBy)).size >= 2, 'more than one worker took jobs');
    const r = await client.run({ code: 'print(open("/f").read())', files: { '/f': 'via the client' } });
    assert.equal(r.stdout, 'via the client\n');
    assert.equal((await enqueueRun(redis.url, { code: 'print(7 * 6)' })).stdout, '42\n');
  });

  it('runs a WebAssembly module from a "run" job, and refuses an engine the worker does not enable', async () => {
    const wat = await finished(await queue.add('run', { wat: HELLO_WAT }));
    assert.equal(wat.returnvalue.stdout, 'hello from wat\n');
    assert.equal(wat.returnvalue.engine, 'wasm');
    assert.equal(wat.returnvalue.exitCode, 0);
    const cpython = await finished(await queue.add('run', { code: 'print(1)', engine: 'cpython' }));
    assert.match(cpython.failedReason, /engine: "cpython" is not enabled on this server \(enabled: micropython\)/);
    assert.equal(cpython.attemptsMade, 1);
  });

  it('fails bad jobs at once: invalid data, limits above the worker\'s, unknown names', async () => {
    const invalid = await finished(await queue.add('run', { code: 5 }));
    assert.match(invalid.failedReason, /invalid job data: code/);
    assert.equal(invalid.attemptsMade, 1);
    await assert.rejects(client.run({ code: 'print(1)', limits: { timeoutMs: 60_000 } }), (e: Error) => e instanceof QueueJobError && /may not exceed/.test(e.message));
    const grant = await finished(await queue.add('run', { code: 'print(1)', mounts: [{ host: '/', guest: '/host' }] }));
    assert.match(grant.failedReason, /invalid job data: data: Unrecognized key/);
    const key = await finished(await queue.add('session-run', { session: 'x:lock', code: 'print(1)' }));
    assert.match(key.failedReason, /invalid job data: session/);
    const unknown = await finished(await queue.add('exec', { code: 'print(1)' }));
    assert.match(unknown.failedReason, /unknown job name "exec"/);
  });

  it('continues a session on another worker from its snapshot in Redis', async () => {
    const session = await client.createSession({ '/in.txt': 'kept' });
    const first = await finished(await queue.add('session-run', { session, code: 'x = 41' }));
    assert.equal(first.returnvalue.ok, true, first.failedReason);
    // The worker that ran it goes away, so the next run must happen elsewhere.
    await workers.get(first.processedBy!)!.stop('SIGKILL');
    workers.delete(first.processedBy!);
    const second = await finished(await queue.add('session-run', { session, code: 'x += 1\nprint(x, open("/in.txt").read())' }));
    assert.notEqual(second.processedBy, first.processedBy);
    assert.equal(second.returnvalue.stdout, '42 kept\n', second.failedReason);
    assert.equal((await client.runInSession(session, 'print(x)')).stdout, '42\n');
    await client.closeSession(session);
    await assert.rejects(client.runInSession(session, 'print(x)'), /no session/);
  });

  it('loses no job when a worker is killed mid-job (SIGKILL), and a killed session run is not applied twice', async () => {
    const session = await client.createSession();
    await client.runInSession(session, 'x = 41');
    const sessionJob = await queue.add('session-run', { session, code: 'import time\ntime.sleep(1)\nx += 1\nprint(x)' });
    const jobs = await Promise.all([1, 2].map((i) => queue.add('run', { code: sleepCode(1, i) })));
    let victim: string | undefined;
    const deadline = Date.now() + DONE_WITHIN_MS;
    while (!victim && Date.now() < deadline) {
      const j = await queue.getJob(sessionJob.id!);
      if ((await j!.getState()) === 'active' && j!.processedBy) victim = j!.processedBy;
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(victim && workers.has(victim), 'a worker took the session job');
    await workers.get(victim!)!.stop('SIGKILL');
    workers.delete(victim!);
    const done = await Promise.all(jobs.map(finished));
    done.forEach((job, i) => assert.equal(job.returnvalue?.stdout, `job ${i + 1}\n`, job.failedReason));
    const rerun = await finished(sessionJob);
    assert.notEqual(rerun.processedBy, victim);
    assert.equal(rerun.returnvalue?.stdout, '42\n', rerun.failedReason);
    assert.equal((await client.runInSession(session, 'print(x)')).stdout, '42\n', 'the killed attempt wrote nothing');
  });

  it('keeps queued jobs across a redis-server restart (AOF), and the workers reconnect', async () => {
    const jobs = await Promise.all([1, 2, 3, 4].map((i) => queue.add('run', { code: sleepCode(0.2, i) })));
    await redis.kill();
    await redis.restart();
    const done = await Promise.all(jobs.map(finished));
    done.forEach((job, i) => assert.equal(job.returnvalue?.stdout, `job ${i + 1}\n`, job.failedReason));
    assert.equal((await client.run({ code: 'print("after restart")' })).stdout, 'after restart\n');
  });
});
