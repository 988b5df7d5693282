// asyncio under the CPython engine: the stdlib's own event loop (python3's output is compared in
// test/fixtures/cpython/asyncio_tasks.py), waiting for its timers in the host without spinning and
// within the run's deadline, in both isolations and on the deterministic clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';

const SLEEP_ONE_SECOND = 'import asyncio\nasyncio.run(asyncio.sleep(1.0))\nprint("slept")';

describe('CPython engine: asyncio', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython' });
  });
  after(() => sb.dispose());

  it("uses the stdlib's loop, and selectors poll without the host refusing", async () => {
    const r = await sb.run(`
import asyncio, selectors, select
loop = asyncio.new_event_loop()
print(type(loop).__name__, selectors.DefaultSelector.__name__)
print(loop.run_until_complete(asyncio.sleep(0, "done")))
loop.close()
p = select.poll()
p.register(1, select.POLLOUT)
print(p.poll(0))
print(select.poll().poll(0))
`);
    assert.equal(r.stdout, '_UnixSelectorEventLoop PollSelector\ndone\n[(1, 4)]\n[]\n', JSON.stringify(r.error));
    assert.deepEqual(r.audit.events, []);
  });

  it("a deadline in a busy loop stops it within the grace: the interpreter is kept", async () => {
    // The stop's traceback must not read and parse asyncio's sources (that took ~420 ms: past the
    // 200 ms grace, and the interpreter replaced, at every stop in a fresh sandbox). The first stop in
    // a process also pays V8's first compile of the stop's path, which under a loaded test run can
    // outlast the grace by itself: it runs once unchecked, then every stop must keep the interpreter.
    const busy = 'import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(0)\nasyncio.run(main())';
    assert.equal((await sb.run(busy, { limits: { timeoutMs: 300 } })).error?.kind, 'timeout');
    await sb.run('kept = 1');
    for (let i = 0; i < 3; i++) {
      const r = await sb.run(busy, { limits: { timeoutMs: 300 } });
      assert.equal(r.error?.kind, 'timeout', JSON.stringify(r.error));
      assert.equal(r.sandboxReplaced, false, `stop ${i} outlasted the grace after ${r.usage.wallMs} ms`);
      assert.match(r.error?.traceback ?? '', /asyncio\/runners\.py", line \d+, in run\n[^]*KeyboardInterrupt\n$/);
      // Described without reading the stdlib's sources: no source line under a stdlib frame.
      assert.doesNotMatch(r.error?.traceback ?? '', /python314\.zip\/[^"]*", line \d+, in \w+\n {4}/);
      assert.equal((await sb.run('print(kept)')).stdout, '1\n');
    }
  });

  it('sleeps without spinning: a one-second await uses little fuel and little CPU', async () => {
    await sb.run(SLEEP_ONE_SECOND.replace('1.0', '0.01')); // compiled and warm
    const cpuBefore = process.cpuUsage();
    const r = await sb.run(SLEEP_ONE_SECOND);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    assert.equal(r.stdout, 'slept\n', JSON.stringify(r.error));
    assert.ok(r.usage.wallMs >= 990, `the sleep lasted ${r.usage.wallMs} ms`);
    // A guest that polled in a loop would burn fuel; a host that spun would burn the second's CPU.
    assert.ok(r.usage.fuel < 50_000_000, `${r.usage.fuel} fuel for a sleep`);
    assert.ok(cpuMs < 0.6 * r.usage.wallMs, `${cpuMs} ms of CPU in ${r.usage.wallMs} ms`);
  });

  it("the run's deadline ends a long sleep; the session goes on", async () => {
    const r = await sb.run('import asyncio\nx = 1\nasyncio.run(asyncio.sleep(60))', { limits: { timeoutMs: 500 } });
    assert.equal(r.error?.kind, 'timeout');
    assert.ok(r.usage.wallMs < 30_000, `stopped after ${r.usage.wallMs} ms`);
    // asyncio.run turns the soft stop's KeyboardInterrupt into cancelling its task, then raises it:
    // the session keeps its state, unless a loaded machine let that outlast the 200 ms grace.
    const after = await sb.run('print(globals().get("x"))');
    assert.equal(after.stdout, r.sandboxReplaced ? 'None\n' : '1\n');
  });

  it('sleeps advance the deterministic clock instead of waiting', async () => {
    const code = `
import asyncio, time
async def job(name, delay):
    await asyncio.sleep(delay)
    return name
async def main():
    return await asyncio.gather(job("a", 30), job("b", 10), job("c", 20))
t0 = time.monotonic()
print(asyncio.run(main()))
print(30 <= time.monotonic() - t0 < 31)
`;
    const outputs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const det = await Sandbox.create({ engine: 'cpython', clock: { fixedMs: 0 }, seed: 1 });
      const r = await det.run(code);
      det.dispose();
      assert.equal(r.stdout, "['a', 'b', 'c']\nTrue\n", JSON.stringify(r.error));
      assert.ok(r.usage.wallMs < 20_000, `${r.usage.wallMs} ms for 30 virtual seconds`);
      outputs.push(`${r.stdout} ${r.usage.fuel}`);
    }
    assert.equal(outputs[0], outputs[1], 'same code, same clock: same output and fuel');
  });

  it('works the same in a worker sandbox', async () => {
    const worker = await Sandbox.create({ engine: 'cpython', isolation: 'worker' });
    try {
      const r = await worker.run(`
import asyncio
async def main():
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(asyncio.sleep(d / 10, d)) for d in (3, 1, 2)]
    return [t.result() for t in tasks]
print(asyncio.run(main()))
`);
      assert.equal(r.stdout, '[3, 1, 2]\n', JSON.stringify(r.error));
      const stopped = await worker.run('import asyncio\nasyncio.run(asyncio.sleep(60))', { limits: { timeoutMs: 500 } });
      assert.equal(stopped.error?.kind, 'timeout');
    } finally {
      worker.dispose();
    }
  });
});
