import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Pool, PoolOverloadError, UsageError } from '../src/index.js';

describe('Pool', () => {
  for (const isolation of ['inline', 'worker'] as const) {
    it(`gives every run a fresh sandbox (${isolation})`, async () => {
      const pool = new Pool({ isolation, size: 2, env: { WHO: 'pool' }, files: { '/in.txt': 'given' } });
      const outs = [];
      for (let i = 0; i < 6; i++) {
        // Nothing a run leaves behind (globals, files, environment changes) is seen by a later one.
        const r = await pool.run(
          'import os\ntry:\n    n += 1\nexcept NameError:\n    n = 0\nprint(n, os.getenv("WHO"), sorted(os.listdir("/")))\n' +
            'open("/left.txt", "w").write("x")\nos.environ["WHO"] = "changed"',
        );
        r.throwIfError();
        outs.push(r.stdout);
        await nextTurn();
      }
      assert.deepEqual(outs, Array(6).fill("0 pool ['in.txt']\n"));
      await pool.close();
      await assert.rejects(pool.run('1'), UsageError);
    });

    it(`keeps going after a run is stopped (${isolation})`, async () => {
      const pool = new Pool({ isolation, size: 1, limits: { fuel: 20_000_000 } });
      const stopped = await pool.run('while True: pass');
      assert.equal(stopped.error?.kind, 'fuel');
      // A hard stop (the guest swallows the soft one): the stopped run's files still go with it.
      const hard = await pool.run('with open("/left.txt", "w") as f:\n    f.write("x")\nwhile True:\n    try:\n        while True: pass\n    except KeyboardInterrupt:\n        pass');
      assert.equal(hard.sandboxReplaced, true);
      const ok = await pool.run('import os\nprint("next", os.listdir("/"))');
      assert.equal(ok.stdout, 'next []\n');
      await pool.close();
    });
  }

  it('runs on several workers at once and drains on close', async () => {
    // The host sees how many runs are inside their sleep at the same time.
    let inside = 0;
    let most = 0;
    const m = { enter: () => void (most = Math.max(most, ++inside)), leave: () => void inside-- };
    const pool = new Pool({ isolation: 'worker', size: 2, modules: { m } });
    await pool.ready();
    const runs = Array.from({ length: 6 }, (_, i) => pool.run(`import m, time\nm.enter()\ntime.sleep(0.2)\nm.leave()\nprint(${i})`));
    const closing = pool.close(); // queued runs still finish
    const results = await Promise.all(runs);
    await closing;
    assert.deepEqual(
      results.map((r) => r.stdout),
      ['0\n', '1\n', '2\n', '3\n', '4\n', '5\n'],
    );
    assert.equal(most, 2);
  });

  it('rejects runs past its queue bound instead of growing', async () => {
    const pool = new Pool({ isolation: 'worker', size: 1, maxQueue: 2 });
    await pool.ready();
    const accepted = [pool.run('import time\ntime.sleep(0.3)'), pool.run('1'), pool.run('2')];
    await assert.rejects(pool.run('3'), PoolOverloadError);
    for (const r of await Promise.all(accepted)) r.throwIfError();
    await pool.close();
  });

  it('hands out persistent sessions with the pool grants', async () => {
    const pool = new Pool({ size: 1, modules: { m: { two: () => 2 } } });
    const s = await pool.session();
    await s.run('import m\nx = m.two()');
    assert.equal((await s.run('print(x * 21)')).stdout, '42\n');
    s.dispose();
    await pool.close();
  });

  it('validates its options', () => {
    assert.throws(() => new Pool({ size: 0 }), UsageError);
    assert.throws(() => new Pool({ maxQueue: -1 }), UsageError);
    assert.throws(() => new Pool({ nope: 1 } as never), UsageError);
  });
});
