// Disposing a running sandbox, one rule for every engine with sessions: disposed from inside its own
// run (a host callback), an inline sandbox finishes that run and is disposed at its end; a worker
// sandbox's worker is ended. Either way nothing runs in it again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { goThenLoop, PYTHON_ENGINES } from './support/engines.js';

for (const engine of PYTHON_ENGINES) {
  describe(`dispose while running (${engine})`, () => {
    it('inline: disposed from inside the run, the run finishes and the sandbox is then disposed', { timeout: 120_000 }, async () => {
      const sb = await Sandbox.create({ engine, modules: { host: { stop: () => sb.dispose() } } });
      const r = await sb.run('import host\nhost.stop()\nprint("after")');
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.stdout, 'after\n');
      assert.equal(sb.disposed, true);
      await assert.rejects(sb.run('1'), /disposed/);
    });

    it('worker: disposed during a run, the run ends and the sandbox is disposed', { timeout: 120_000 }, async () => {
      const sb = await Sandbox.create({ engine, isolation: 'worker' });
      const { run, started } = goThenLoop(sb);
      await started;
      sb.dispose();
      const r = await run;
      assert.equal(r.ok, false);
      assert.equal(sb.disposed, true);
      await assert.rejects(sb.run('1'), /disposed/);
    });
  });
}
