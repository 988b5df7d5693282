// Interrupts and AbortSignal, the same in every engine that declares them: a worker sandbox's run is
// interrupted (KeyboardInterrupt) and the session goes on; an inline sandbox cannot be reached
// during its run, which the API says rather than ignoring the call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, UsageError } from '../src/index.js';
import { DECLARED, ENGINES, fixture, goThenLoop, runPrintingFirst, type PythonEngineName } from './support/engines.js';

for (const name of ENGINES) {
  const engine = name as PythonEngineName; // a Python engine wherever the declared behaviour is tested
  describe(`interrupt and signal (${name})`, () => {
    if (!DECLARED[name].interrupt) {
      it('declares none: a signal is refused as an unknown option; the run limits still bound it', async () => {
        const m = await fixture('infinite_loop.wat');
        await assert.rejects(m.run({ signal: AbortSignal.timeout(10) } as never), UsageError);
      });
      return;
    }
    it('an aborted signal rejects with its reason, interrupts the run, and the sandbox goes on', { timeout: 120_000 }, async () => {
      const sb = await Sandbox.create({ engine, isolation: 'worker' });
      try {
        const controller = new AbortController();
        const { run, started } = goThenLoop(sb, { signal: controller.signal });
        await started;
        controller.abort();
        await assert.rejects(run, (e: Error) => e.name === 'AbortError');
        // The sandbox goes on (its state too, unless a repeated interrupt landed in the runner's own
        // handling of the first: then the interpreter was replaced, as a hard stop would).
        assert.equal((await sb.run('print(6 * 7)')).stdout, '42\n');
        await assert.rejects(sb.run('1', { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError');
      } finally {
        sb.dispose();
      }
    });

    it('interrupt() raises KeyboardInterrupt in a worker run, and is refused inline', { timeout: 120_000 }, async () => {
      const sb = await Sandbox.create({ engine, isolation: 'worker' });
      const inline = await Sandbox.create({ engine });
      try {
        const { run, started } = goThenLoop(sb);
        await started;
        sb.interrupt();
        const r = await run;
        assert.equal(r.error?.type, 'KeyboardInterrupt', JSON.stringify(r.error));
        assert.equal(r.error?.kind, 'python');
        assert.equal(r.sandboxReplaced, false);
        assert.throws(() => inline.interrupt(), UsageError);
      } finally {
        sb.dispose();
        inline.dispose();
      }
    });

    it('an interrupt during time.sleep is raised there: except KeyboardInterrupt catches it, as in python3', { timeout: 120_000 }, async () => {
      const sb = await Sandbox.create({ engine, isolation: 'worker' });
      try {
        const code = 'import time\ntry:\n    print("go")\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("caught")\nfinally:\n    print("finally")\nprint("after")';
        const { run, started } = runPrintingFirst(sb, code);
        await started;
        sb.interrupt();
        const r = await run;
        assert.equal(r.stdout, 'go\ncaught\nfinally\nafter\n', JSON.stringify(r.error));
        assert.equal(r.error, null);
      } finally {
        sb.dispose();
      }
    });

    it('an interrupt that came before time.sleep is raised at the sleep, which does not wait', { timeout: 120_000 }, async () => {
      // The interrupt lands while sum() runs in C (no check of the VM's between it and the sleep's
      // call), so it is pending when the sleep starts.
      const sb = await Sandbox.create({ engine, isolation: 'worker' });
      try {
        const code = 'import time\ntry:\n    print("go")\n    n = sum(range(5_000_000))\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("caught")\nprint("after")';
        const { run, started } = runPrintingFirst(sb, code, { limits: { timeoutMs: 30_000, fuel: 2e11 } });
        await started;
        sb.interrupt();
        const r = await run;
        assert.equal(r.stdout, 'go\ncaught\nafter\n', JSON.stringify(r.error));
        assert.equal(r.error, null);
        assert.ok(r.usage.wallMs < 25_000, `${r.usage.wallMs} ms: the sleep waited`);
      } finally {
        sb.dispose();
      }
    });
  });
}
