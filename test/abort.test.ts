// An AbortSignal cancels any Sandbox run soon after the abort, for both engines, inline sandboxes
// included: a run given a signal moves a default (inline) sandbox to a worker, where the abort raises
// KeyboardInterrupt, the promise rejects within 100 ms, and a run still going 2 s after the abort has
// its worker terminated (the sandbox's next call waits for the run to end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool, Sandbox } from '../src/index.js';

/** Far beyond any abort's delay, even on a loaded machine: a run that ends near it was not cancelled. */
const LIMIT_MS = 60_000;
/** Generous for a loaded 2-core machine; the design's bound is 100 ms plus terminating a worker. */
const SLACK_MS = 5_000;

/** Starts `code`, aborts once it has printed "go" and a further 100 ms ran, and measures the rejection. */
async function abortAfterStart(sb: Sandbox, code: string): Promise<{ sinceAbortMs: number; error: unknown }> {
  const controller = new AbortController();
  let abortedAt = 0;
  const onStdout = (text: string) => {
    if (!text.includes('go')) return;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 100);
  };
  const error = await sb.run(code, { signal: controller.signal, onStdout, limits: { timeoutMs: LIMIT_MS } }).then(
    () => assert.fail('the run ended instead of being cancelled'),
    (e: unknown) => e,
  );
  return { sinceAbortMs: performance.now() - abortedAt, error };
}

for (const engine of ['micropython', 'cpython'] as const) {
  describe(`cancelling a run with an AbortSignal (${engine})`, () => {
    const flush = engine === 'cpython' ? ', flush=True' : '';

    it('an inline sandbox moves to a worker, and `while True: pass` is cancelled at once', async () => {
      await using sb = await Sandbox.create({ engine });
      await sb.run('kept = 41');
      const { sinceAbortMs, error } = await abortAfterStart(sb, `print("go"${flush})\nwhile True: pass`);
      assert.equal((error as Error).name, 'AbortError');
      assert.ok(sinceAbortMs < SLACK_MS, `rejected ${sinceAbortMs} ms after the abort`);
      // The next run waits for the cancelled one to end (CPython's loop never reaches an interrupt
      // check: its worker is terminated; MicroPython's ends by KeyboardInterrupt).
      const after = await sb.run('print("alive")');
      assert.equal(after.stdout, 'alive\n');
      assert.throws(() => sb.runSync('1'), /runSync needs an inline sandbox/);
    });

    it('state moves with the sandbox, and code that ends on the interrupt keeps it', async () => {
      await using sb = await Sandbox.create({ engine, files: { '/data.txt': 'file' } });
      await sb.run('kept = 41');
      const { sinceAbortMs, error } = await abortAfterStart(
        sb,
        `import time\nprint("go"${flush})\ntry:\n    time.sleep(50)\nfinally:\n    kept += 1`,
      );
      assert.equal((error as Error).name, 'AbortError');
      assert.ok(sinceAbortMs < SLACK_MS, `rejected ${sinceAbortMs} ms after the abort`);
      const r = await sb.run('print(kept, open("/data.txt").read())');
      assert.equal(r.stdout, '42 file\n', JSON.stringify(r.error));
    });

    // Not MicroPython yet: there an interrupt in time.sleep escapes `except KeyboardInterrupt` (a
    // `finally` runs), so the program never reaches its `kept += 1`.
    it("the abort's repeated interrupt landing after the program's end keeps the session", { skip: engine === 'micropython' }, async () => {
      await using sb = await Sandbox.create({ engine });
      await sb.run('kept = 41');
      // The program ends on the first interrupt with an exception whose message takes long to make:
      // the next interrupt (they repeat every 100 ms until the run ends) lands while the runner
      // describes it, outside the program.
      const slowMessage = `class Slow(Exception):\n    def __str__(self):\n        time.sleep(2)\n        return "slow"\n`;
      const { error } = await abortAfterStart(
        sb,
        `import time\n${slowMessage}print("go"${flush})\ntry:\n    time.sleep(50)\nexcept KeyboardInterrupt:\n    kept += 1\n    raise Slow()`,
      );
      assert.equal((error as Error).name, 'AbortError');
      const r = await sb.run('print(kept)');
      assert.equal(r.stdout, '42\n', JSON.stringify(r.error));
    });

    it('a worker pool run that never reaches an interrupt check is cancelled too', async () => {
      await using pool = new Pool({ engine, size: 1, isolation: 'worker' });
      await pool.ready();
      const controller = new AbortController();
      let abortedAt = 0;
      const run = pool.run(`print("go"${flush})\nwhile True: pass`, {
        signal: controller.signal,
        limits: { timeoutMs: LIMIT_MS },
        onStdout: () => setTimeout(() => ((abortedAt = performance.now()), controller.abort()), 100),
      });
      await assert.rejects(run, { name: 'AbortError' });
      const sinceAbortMs = performance.now() - abortedAt;
      assert.ok(sinceAbortMs < SLACK_MS, `rejected ${sinceAbortMs} ms after the abort`);
      assert.equal((await pool.run('6 * 7')).value, 42);
    });

    it('an inline sandbox made so on purpose stays inline', async () => {
      await using sb = await Sandbox.create({ engine, isolation: 'inline' });
      const r = await sb.run('x = 1', { signal: new AbortController().signal });
      assert.equal(r.ok, true);
      assert.equal(sb.runSync('print(x)').stdout, '1\n');
    });
  });
}
