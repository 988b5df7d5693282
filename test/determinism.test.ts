import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, UsageError } from '../src/index.js';

const PROGRAM = `
import random, time
t0 = time.time()
tk = time.ticks_ms()
xs = [random.random() for _ in range(5)]
d = {}
for i in range(3000):
    d[str(random.getrandbits(20))] = i
time.sleep(60)
s = sum(i * i for i in range(20000))
print(t0, tk, xs, random.randint(1, 10**6), len(d), list(d)[:3])
print(time.time() - t0 >= 60, time.ticks_diff(time.ticks_ms(), tk) >= 60000, s)
print(object.__hash__(object()) if hasattr(object, "__hash__") else id([]) % 1000)
`;

describe('deterministic mode', () => {
  it('gives identical output and fuel across runs with the same seed and fixed clock', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) {
      const sb = await Sandbox.create({ clock: { fixedMs: 1_700_000_000_000 }, seed: 42 });
      const started = performance.now();
      const r = await sb.run(PROGRAM);
      r.throwIfError();
      results.push({ stdout: r.stdout, fuel: r.usage.fuel, ms: performance.now() - started });
      sb.dispose();
    }
    assert.equal(results[1].stdout, results[0].stdout);
    assert.equal(results[2].stdout, results[0].stdout);
    assert.equal(results[1].fuel, results[0].fuel);
    assert.equal(results[2].fuel, results[0].fuel);
    assert.match(results[0].stdout, /^1700000000\.\d* \d+ /); // the clock starts at fixedMs
    assert.match(results[0].stdout, /\nTrue True 2666466670000\n/); // the 60 s sleep moved the clock
    // The sleep did not wait: each run ended well within its 10 s time limit, far from the 60 s it slept.
    for (const r of results) assert.ok(r.ms < 30_000, `run took ${r.ms} ms`);
  });

  it('differs with another seed, and in normal mode between sandboxes', async () => {
    const out = async (opts: object) => {
      const sb = await Sandbox.create(opts);
      const r = await sb.run('import random\nprint([random.getrandbits(30) for _ in range(4)])');
      sb.dispose();
      return r.stdout;
    };
    assert.notEqual(await out({ seed: 1 }), await out({ seed: 2 }));
    assert.equal(await out({ seed: 7 }), await out({ seed: 7 }));
    assert.notEqual(await out({}), await out({}));
  });

  it('is also deterministic in a worker sandbox', async () => {
    const outs = [];
    for (let i = 0; i < 2; i++) {
      const sb = await Sandbox.create({ isolation: 'worker', clock: { fixedMs: 0 }, seed: 3 });
      const r = await sb.run(PROGRAM);
      r.throwIfError();
      outs.push(r.stdout + r.usage.fuel);
      sb.dispose();
    }
    assert.equal(outs[0], outs[1]);
  });

  it('rejects bad values', async () => {
    await assert.rejects(Sandbox.create({ seed: -1 }), UsageError);
    await assert.rejects(Sandbox.create({ seed: 1.5 }), UsageError);
    await assert.rejects(Sandbox.create({ clock: { fixedMs: 'now' as never } }), UsageError);
    await assert.rejects(Sandbox.create({ clock: { at: 1 } as never }), UsageError);
  });
});
