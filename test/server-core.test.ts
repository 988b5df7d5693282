// The pieces every server shares, in-process: limits that only narrow, the bounded gate, request
// files against mounts, and the session store's bounds and idle expiry.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { UsageError } from '../src/index.js';
import { DEFAULT_LIMITS } from '../src/core/limits.js';
import { requestFiles } from '../src/servers/core/files.js';
import { Gate, OverloadError } from '../src/servers/core/gate.js';
import { narrowLimits } from '../src/servers/core/limits.js';
import { Runner } from '../src/servers/core/runner.js';
import { SessionStore, UnknownSessionError } from '../src/servers/core/sessions.js';

describe('narrowLimits', () => {
  const server = { ...DEFAULT_LIMITS, timeoutMs: 1000 };
  it('keeps lower limits and refuses higher ones, Infinity included', () => {
    assert.deepEqual(narrowLimits(server, { timeoutMs: 10, fuel: 5 }), { timeoutMs: 10, fuel: 5 });
    assert.throws(() => narrowLimits(server, { timeoutMs: 1001 }), UsageError);
    assert.throws(() => narrowLimits(server, { timeoutMs: Infinity }), /may not exceed/);
    assert.throws(() => narrowLimits(server, { fuel: NaN }), /must be a number/);
    assert.throws(() => narrowLimits(server, { memoryBytes: '1e12' as unknown as number }), /must be a number/);
  });
});

describe('Gate', () => {
  it('runs at most maxRunning at once, queues maxQueued, refuses the rest at once', async () => {
    const gate = new Gate(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const task = () =>
      gate.run(async () => {
        peak = Math.max(peak, ++running);
        await new Promise<void>((r) => releases.push(r));
        running--;
      });
    const accepted = [task(), task(), task()];
    await assert.rejects(task(), OverloadError);
    while (releases.length < 2) await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((r) => r());
    while (releases.length < 1) await new Promise((r) => setImmediate(r));
    releases.splice(0).forEach((r) => r());
    await Promise.all(accepted);
    assert.equal(peak, 2);
    await gate.idle();
    assert.equal(gate.busy, 0);
  });
});

describe('requestFiles', () => {
  const grants = { mounts: [{ host: '/tmp', guest: '/data' }], files: { '/etc/motd': 'hi' } };
  it('adds in-memory files but never inside a mount, however the path is spelled', () => {
    assert.deepEqual(requestFiles(grants, { '/in/a': 'x' }), { '/etc/motd': 'hi', '/in/a': 'x' });
    for (const path of ['/data', '/data/x', '/in/../data/x', '//data/x', '/data/./x']) {
      assert.throws(() => requestFiles(grants, { [path]: 'x' }), /inside a mounted directory/, path);
    }
    assert.throws(() => requestFiles(grants, { 'rel/x': 'x' }), /absolute path/);
    assert.equal(requestFiles(grants, {}), grants.files);
  });
});

describe('SessionStore', () => {
  const runner = new Runner({ grants: { limits: { timeoutMs: 2000 } }, concurrency: 1, maxQueue: 1 });
  const sessions = new SessionStore(runner, { maxSessions: 1, idleMs: 300 });
  after(async () => {
    await sessions.closeAll();
    await runner.close();
  });

  it('bounds the number of sessions and closes idle ones', async () => {
    const id = await sessions.create();
    assert.equal((await sessions.run(id, 'x = 1\nprint(x)')).stdout, '1\n');
    await assert.rejects(sessions.create(), OverloadError);
    await assert.rejects(sessions.run(id, 'print(1)', { timeoutMs: 5000 }), /may not exceed/);
    const deadline = Date.now() + 20_000;
    while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(sessions.size, 0, 'the idle session was closed');
    await assert.rejects(sessions.run(id, 'print(x)'), UnknownSessionError);
    const again = await sessions.create();
    assert.equal((await sessions.run(again, 'print("new")')).stdout, 'new\n');
  });
});
