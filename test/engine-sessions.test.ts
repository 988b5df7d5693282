// Sessions, snapshots and fork, the same in every engine that declares sessions; a module run keeps
// no state between runs and has nothing to snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, SnapshotError } from '../src/index.js';
import { DECLARED, ENGINES, fixture, type PythonEngineName } from './support/engines.js';

for (const name of ENGINES) {
  const engine = name as PythonEngineName; // a Python engine wherever the declared behaviour is tested
  describe(`sessions, snapshots and fork (${name})`, () => {
    if (!DECLARED[name].sessions) {
      it('declares none: a module is run afresh each time and has no snapshot', async () => {
        const m = await fixture('add.wat');
        assert.equal('snapshot' in m, false);
        assert.equal('fork' in m, false);
      });
      return;
    }
    for (const isolation of ['inline', 'worker'] as const) {
      it(`globals survive a snapshot, a restore and a fork; the copies are independent (${isolation})`, { timeout: 120_000 }, async () => {
        const options = { engine, isolation, snapshotKey: 'a key of at least sixteen bytes' };
        const sb = await Sandbox.create(options);
        try {
          await sb.run('x = [1, 2]');
          const bytes = await sb.snapshot();
          const restored = await Sandbox.restore(bytes, options);
          const forked = await sb.fork();
          try {
            await sb.run('x.append(3)');
            assert.equal((await restored.run('print(x)')).stdout, '[1, 2]\n');
            assert.equal((await forked.run('x.append(4)\nprint(x)')).stdout, '[1, 2, 4]\n');
            assert.equal((await sb.run('print(x)')).stdout, '[1, 2, 3]\n');
          } finally {
            restored.dispose();
            forked.dispose();
          }
          const altered = bytes.slice();
          altered[altered.length - 1] ^= 1;
          await assert.rejects(Sandbox.restore(altered, options), SnapshotError);
        } finally {
          sb.dispose();
        }
      });
    }
  });
}
