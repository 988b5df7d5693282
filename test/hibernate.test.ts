// Hibernation of idle CPython sessions (SandboxOptions.hibernateAfterMs, sb.hibernate()): the session
// gives its memory back and keeps only what it continues from; the next call wakes it, the same
// session byte for byte (so its runs and their fuel are what they would have been awake).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, UsageError } from '../src/index.js';

const CPY = { engine: 'cpython', hibernateAfterMs: Infinity } as const;
// Deterministic sandboxes: fuel and random numbers are the same in every process.
const SAME = { ...CPY, clock: { fixedMs: Date.UTC(2026, 0, 1) }, seed: 7 } as const;

const STATE = `
import random
class Account:
    def __init__(self, owner): self.owner, self.balance = owner, 0
    def deposit(self, n):
        self.balance += n
        return self.balance
def counter():
    n = 0
    while True:
        n += 1
        yield n
acct = Account("ada")
acct.deposit(5)
ticks = counter()
next(ticks)
big = bytes(range(256)) * 4000  # ~1 MB: pages well away from the template's
with open("/notes.txt", "w") as f:
    f.write("kept")
`;

const AFTER = `
acct.deposit(10)
print(acct.owner, acct.balance, next(ticks), len(big), big[-1], open("/notes.txt").read(), random.random())
`;

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('hibernation', { timeout: 120_000 }, () => {
  it('a hibernated session wakes as it was: objects, a generator mid-way, files, random state, fuel', async () => {
    await using awake = await Sandbox.create(SAME);
    await using parked = await Sandbox.create(SAME);
    for (const sb of [awake, parked]) assert.equal((await sb.run(STATE)).ok, true);
    assert.equal(parked.hibernate(), true);
    assert.equal(parked.hibernating, true);
    assert.equal(awake.hibernating, false);
    const [a, p] = [await awake.run(AFTER), await parked.run(AFTER)];
    assert.equal(parked.hibernating, false, 'the run woke it');
    assert.equal(p.ok, true, JSON.stringify(p.error));
    assert.match(p.stdout, /^ada 15 2 1024000 255 kept 0\.\d+\n$/);
    assert.equal(p.stdout, a.stdout);
    assert.equal(p.usage.fuel, a.usage.fuel, 'the same interpreter state: the same fuel');
    // Twice more, with a run between: nothing drifts.
    assert.equal(parked.hibernate(), true);
    assert.equal(parked.hibernate(), false, 'already hibernating');
    const [a2, p2] = [await awake.run(AFTER), await parked.run(AFTER)];
    assert.equal(p2.stdout, a2.stdout);
    assert.equal(p2.usage.fuel, a2.usage.fuel);
  });

  it('stays awake while the guest holds a file open, hibernates once it is closed', async () => {
    await using sb = await Sandbox.create(CPY);
    await sb.run('f = open("/log.txt", "w")\nf.write("a")');
    assert.equal(sb.hibernate(), false, 'its descriptor is the instance\'s, not in memory');
    const r = await sb.run('f.write("b")\nf.close()\nprint(open("/log.txt").read())');
    assert.equal(r.stdout, 'ab\n');
    assert.equal(sb.hibernate(), true);
    assert.equal((await sb.run('print(open("/log.txt").read())')).stdout, 'ab\n');
  });

  it('hibernates by itself after hibernateAfterMs idle; each call restarts the countdown', async () => {
    await using sb = await Sandbox.create({ engine: 'cpython', hibernateAfterMs: 150 });
    await sb.run('n = 41');
    assert.equal(sb.hibernating, false);
    assert.equal(await until(() => sb.hibernating, 20_000), true, 'hibernated when idle');
    assert.equal((await sb.run('n += 1\nprint(n)')).stdout, '42\n');
    assert.equal(sb.hibernating, false);
    assert.equal(await until(() => sb.hibernating, 20_000), true, 'and again after the next call');
    // The default for CPython is finite, and MicroPython's sessions stay awake.
    await using mp = await Sandbox.create({ hibernateAfterMs: 0 });
    await mp.run('x = 1');
    assert.equal(mp.hibernate(), false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(mp.hibernating, false);
    assert.equal((await mp.run('print(x)')).stdout, '1\n');
  });

  it('runs, snapshots and file reads wake a hibernating sandbox, a fork leaves it asleep; dispose ends it', async () => {
    await using sb = await Sandbox.create(CPY);
    await sb.run('x = [1, 2, 3]');
    assert.equal(sb.hibernate(), true);
    await using copy = await sb.fork();
    assert.equal(sb.hibernating, true, 'a fork copies the parked state and leaves the sandbox asleep');
    assert.equal((await copy.run('print(sum(x))')).stdout, '6\n');
    assert.equal((await sb.run('x.append(4)\nprint(sum(x))')).stdout, '10\n');
    assert.equal((await copy.run('print(sum(x))')).stdout, '6\n', 'the copy is independent');
    assert.equal((await sb.run('x.pop()')).ok, true);
    assert.equal(sb.hibernate(), true);
    const restored = await Sandbox.restore(await sb.snapshot(), { engine: 'cpython' });
    assert.equal((await restored.run('print(x)')).stdout, '[1, 2, 3]\n');
    restored.dispose();
    assert.equal(sb.hibernate(), true);
    await sb.fs.writeFile('/in.txt', 'hi');
    assert.equal((await sb.run('print(open("/in.txt").read(), x)')).stdout, 'hi [1, 2, 3]\n');
    assert.equal(sb.hibernate(), true);
    sb.dispose();
    assert.equal(sb.disposed, true);
    assert.equal(sb.hibernating, false);
    await assert.rejects(sb.run('x'), UsageError);
  });

  it('limits hold after waking: memory cap, fuel, a deadline', async () => {
    await using sb = await Sandbox.create({ ...CPY, limits: { memoryBytes: 64 * 2 ** 20, fuel: 5e8, timeoutMs: 5_000 } });
    await sb.run('keep = "x" * 1000');
    assert.equal(sb.hibernate(), true);
    const mem = await sb.run('b = bytearray(200 * 2**20)');
    assert.equal(mem.error?.kind, 'memory', JSON.stringify(mem.error));
    assert.equal(sb.hibernate(), true);
    const fuel = await sb.run('while True: pass');
    assert.equal(fuel.error?.kind, 'fuel', JSON.stringify(fuel.error));
    assert.equal((await sb.run('print(len(keep))')).stdout, '1000\n');
  });

  it('refuses a bad hibernateAfterMs clearly', async () => {
    for (const bad of [-1, Number.NaN, '5', 2 ** 31]) {
      await assert.rejects(Sandbox.create({ engine: 'cpython', hibernateAfterMs: bad as number }), (e: Error) => e instanceof UsageError && /hibernateAfterMs/.test(e.message));
    }
  });
});
