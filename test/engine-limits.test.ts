// Limits and stops, the same behaviour in every engine (test/support/engines.ts): fuel, time and
// memory each end a run with their own kind and exit code, and a soft stop keeps a session's state
// where the engine declares one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES, Sandbox } from '../src/index.js';
import { DECLARED, ENGINES, PYTHON_ENGINES, runOnce } from './support/engines.js';

const MiB = 1024 * 1024;

for (const engine of ENGINES) {
  describe(`limits and stops (${engine})`, () => {
    it('fuel: a loop that never ends is stopped with kind fuel, type FuelExhausted', async () => {
      const r = await runOnce(engine, 'loop', { fuel: 20_000_000 });
      assert.equal(r.ok, false);
      assert.equal(r.error?.kind, 'fuel', JSON.stringify(r.error));
      assert.equal(r.error?.type, 'FuelExhausted');
      assert.equal(EXIT_CODES[r.error!.kind], 3);
      assert.ok(r.usage.fuel >= 20_000_000, `${r.usage.fuel}`);
    });

    it('time: with fuel unlimited, a sleep is stopped at the deadline with kind timeout', async () => {
      const r = await runOnce(engine, 'sleep', { fuel: Infinity, timeoutMs: 300 });
      assert.equal(r.error?.kind, 'timeout', JSON.stringify(r.error));
      assert.equal(r.error?.type, 'Timeout');
      assert.ok(r.usage.wallMs >= 300 && r.usage.wallMs < 30_000, `${r.usage.wallMs} ms`);
    });

    it(`memory: the cap holds (${DECLARED[engine].memoryCap})`, async () => {
      const r = await runOnce(engine, 'grow', { memoryBytes: 32 * MiB });
      assert.ok(r.usage.memoryPeakBytes <= 32 * MiB, `${r.usage.memoryPeakBytes}`);
      if (DECLARED[engine].memoryCap === 'error') {
        assert.equal(r.error?.kind, 'memory', JSON.stringify(r.error));
      } else {
        assert.equal(r.ok, true, JSON.stringify(r.error));
        assert.ok(r.audit.events.some((e) => e.kind === 'memory-grow'));
      }
    });

    it('limits are integers in range, Infinity only for fuel and time', async () => {
      for (const limits of [{ fuel: 0.5 }, { fuel: -1 }, { memoryBytes: Infinity }, { outputBytes: NaN }, { timeoutMs: 0 }]) {
        await assert.rejects(runOnce(engine, 'loop', limits), (e: Error) => e.name === 'UsageError' && /must be an integer/.test(e.message), JSON.stringify(limits));
      }
    });
  });
}

for (const engine of PYTHON_ENGINES) {
  for (const isolation of ['inline', 'worker'] as const) {
    describe(`a soft stop keeps the session (${engine}, ${isolation})`, () => {
      it('after a fuel, time or memory stop the globals are still there; after a hard stop the interpreter is fresh', { timeout: 120_000 }, async () => {
        assert.equal(DECLARED[engine].softStop, true);
        const sb = await Sandbox.create({ engine, isolation });
        try {
          await sb.run('kept = 1');
          // A loop that reaches the interpreters' interrupt checks (CPython's `while True: pass` does not).
          const counting = 'n = 0\nwhile True:\n    n += 1';
          const stops = [['fuel', { fuel: 50_000_000 }], ['timeout', { fuel: Infinity, timeoutMs: 300 }]] as const;
          for (const [kind, limits] of stops) {
            const soft = await sb.run(counting, { limits });
            assert.equal(soft.error?.kind, kind, JSON.stringify(soft.error));
            assert.match(soft.error?.traceback ?? '', /KeyboardInterrupt/);
            assert.ok(soft.usage.wallMs < 30_000, `${soft.usage.wallMs} ms`);
            // Under heavy load the grace can run out and the stop become hard: then the state is gone, as reported.
            const after = await sb.run('print(kept)');
            assert.equal(after.ok, !soft.sandboxReplaced, JSON.stringify(after.error));
            if (soft.sandboxReplaced) await sb.run('kept = 1');
          }
          const memory = await sb.run('blocks = [bytearray(2**20) for _ in range(100)]', { limits: { memoryBytes: 64 * MiB } });
          assert.equal(memory.error?.kind, 'memory', JSON.stringify(memory.error));
          assert.equal(memory.sandboxReplaced, false);
          assert.equal((await sb.run('print(kept)')).stdout, '1\n');
          // Code that swallows every interrupt meets the hard stop: a fresh interpreter.
          const hard = await sb.run('while True:\n    try:\n        while True: pass\n    except BaseException: pass', { limits: { fuel: 50_000_000 } });
          assert.equal(hard.error?.kind, 'fuel');
          assert.equal(hard.sandboxReplaced, true);
          assert.equal((await sb.run('print(kept)')).error?.type, 'NameError');
        } finally {
          sb.dispose();
        }
      });
    });
  }

  describe(`limits in detail (${engine})`, () => {
    it('fuel is deterministic: the same program in a fresh sandbox uses the same fuel', async () => {
      const code = 'import json\ntotal = 0\nfor i in range(20000):\n    total += i * i\nprint(json.dumps({"t": total}))';
      const once = async () => {
        await using fresh = await Sandbox.create({ engine });
        return fresh.run(code);
      };
      const [a, b] = [await once(), await once()];
      assert.equal(a.stdout, '{"t": 2666466670000}\n', JSON.stringify(a.error));
      assert.equal(a.stdout, b.stdout);
      assert.equal(a.usage.fuel, b.usage.fuel);
      assert.ok(a.usage.fuel > 0);
    });

    it('a memory bomb of any shape is kind memory within the cap, and the MemoryError can be caught', async () => {
      await using sb = await Sandbox.create({ engine });
      for (const code of ['x = bytearray(10**9)', 'chunks = []\nwhile True:\n    chunks.append("x" * 10**6)', 's = "a" * 10**8']) {
        const r = await sb.run(code, { limits: { memoryBytes: 64 * MiB } });
        assert.equal(r.error?.kind, 'memory', `${code}: ${JSON.stringify(r.error)}`);
        assert.ok(r.usage.memoryPeakBytes <= 64 * MiB, `${r.usage.memoryPeakBytes}`);
      }
      const caught = await sb.run('try:\n    x = bytearray(10**9)\nexcept MemoryError:\n    print("caught")');
      assert.equal(caught.stdout, 'caught\n', JSON.stringify(caught.error));
      assert.equal((await sb.run('print(6 * 7)')).stdout, '42\n');
    });

    it("a program's own exception is kind python whatever its name, even one a JS object has", async () => {
      await using sb = await Sandbox.create({ engine });
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
        const r = await sb.run(`class ${name}(Exception):\n    pass\nraise ${name}("mine")`);
        assert.equal(r.error?.kind, 'python', `${name}: ${JSON.stringify(r.error)}`);
        assert.equal(r.error?.type, name);
      }
      const denied = await sb.run('raise PermissionError("no")');
      assert.equal(denied.error?.kind, 'denied');
    });
  });
}
