import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';

async function run(code: string, options = {}) {
  const sb = await Sandbox.create(options);
  const started = performance.now();
  const r = await sb.run(code);
  const ms = performance.now() - started;
  sb.dispose();
  return { r, ms };
}

describe('asyncio in the sandbox', () => {
  it('runs coroutines concurrently with asyncio.run and gather', async () => {
    // On the virtual clock (sleeps advance it without waiting), so time is measured exactly.
    const { r } = await run(`
import asyncio, time
async def job(name, delay):
    await asyncio.sleep(delay)
    print("done", name)
    return name
async def main():
    return await asyncio.gather(job("a", 0.3), job("b", 0.1), job("c", 0.2))
t0 = time.ticks_ms()
print(asyncio.run(main()))
print(time.ticks_diff(time.ticks_ms(), t0))
`, { clock: { fixedMs: 0 } });
    r.throwIfError();
    const [lines, elapsed] = [r.stdout.split('\n').slice(0, 4).join('\n'), Number(r.stdout.split('\n')[4])];
    assert.equal(lines, "done b\ndone c\ndone a\n['a', 'b', 'c']");
    // Concurrent: the longest sleep (300 ms) plus the virtual time of the fuel used, not their sum (600 ms).
    assert.ok(elapsed >= 300 && elapsed < 450, `took ${elapsed} virtual ms`);
  });

  it('supports tasks, cancellation, timeouts, events, locks and queues', async () => {
    const { r } = await run(`
import asyncio
async def forever():
    await asyncio.sleep(100)
async def main():
    try:
        await asyncio.wait_for(forever(), 0.05)
    except asyncio.TimeoutError:
        print("timeout")
    t = asyncio.create_task(forever())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled", t.cancelled())
    lock = asyncio.Lock()
    async with lock:
        print("locked", lock.locked())
    print("unlocked", lock.locked())
    ev = asyncio.Event()
    async def later():
        await asyncio.sleep(0.01)
        ev.set()
    asyncio.create_task(later())
    await ev.wait()
    q = asyncio.Queue()
    async def producer():
        for i in range(3):
            await q.put(i * i)
    asyncio.create_task(producer())
    got = []
    for _ in range(3):
        got.append(await q.get())
    print("event", ev.is_set(), "queue", got)
    r = await asyncio.gather(asyncio.sleep(0, 1), forever_fails(), return_exceptions=True)
    print(r[0], type(r[1]).__name__)
async def forever_fails():
    raise KeyError("x")
asyncio.run(main())
`);
    r.throwIfError();
    assert.equal(r.stdout, 'timeout\ncancelled True\nlocked True\nunlocked False\nevent True queue [0, 1, 4]\n1 KeyError\n');
  });

  it('ends the run with an exception raised inside asyncio.run, traceback pointing at the user code', async () => {
    const { r } = await run('import asyncio\nasync def main():\n    raise ValueError("boom")\nasyncio.run(main())');
    assert.equal(r.error?.type, 'ValueError');
    assert.match(r.error!.traceback!, /line 3, in main\nValueError: boom\n$/);
    assert.doesNotMatch(r.error!.traceback!, /pyfence/);
  });

  it('allows top-level await, and awaiting async host functions', async () => {
    const calls: string[] = [];
    const { r } = await run(
      `
import asyncio, weather
r = await asyncio.sleep(0.01, "slept")
print(r)
print(sorted((await weather.forecast("Oslo")).items()))
async def two():
    return await asyncio.gather(weather.forecast("A"), weather.forecast("B"))
print([r["city"] for r in await two()])
`,
      {
        modules: {
          weather: {
            forecast: async (city: string) => {
              calls.push(city);
              await new Promise((res) => setTimeout(res, 5));
              return { city, temp: 3.5 };
            },
          },
        },
      },
    );
    r.throwIfError();
    assert.equal(r.stdout, "slept\n[('city', 'Oslo'), ('temp', 3.5)]\n['A', 'B']\n");
    assert.deepEqual(calls, ['Oslo', 'A', 'B']);
  });

  it('needs no js module, and a loop that waits forever is stopped by the deadline', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run('import asyncio\nasync def main():\n    await asyncio.Event().wait()\nasyncio.run(main())');
    assert.equal(r.error?.type, 'RuntimeError');
    assert.match(r.error!.message, /event loop is stuck/);
    const slow = await sb.run('import asyncio\nasyncio.run(asyncio.sleep(60))', { limits: { timeoutMs: 300 } });
    assert.equal(slow.error?.kind, 'timeout');
    sb.dispose();
  });
});
