// Worker isolation: the same API in a worker thread, and a watchdog for when the in-wasm stop fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { createUnmeteredSandbox } from '../src/api/sandbox.js';

describe("isolation: 'worker'", () => {
  it('runs code, keeps globals, streams output and enforces limits in the worker', async () => {
    const sb = await Sandbox.create({ isolation: 'worker' });
    try {
      assert.equal((await sb.run('x = 21\nprint(x * 2)')).stdout, '42\n');
      const seen: string[] = [];
      const r = await sb.run('print(x)', { onStdout: (t) => seen.push(t) });
      assert.equal(r.stdout, '21\n');
      assert.equal(seen.join(''), '21\n');
      const stopped = await sb.run('while True: pass', { limits: { timeoutMs: 200 } });
      assert.equal(stopped.error?.kind, 'timeout');
      assert.equal(stopped.sandboxReplaced, false);
      assert.equal((await sb.run('print(x)')).stdout, '21\n');
      await assert.rejects(Promise.all([sb.run('pass'), sb.run('pass')]), /already running/);
    } finally {
      sb.dispose();
    }
    await assert.rejects(sb.run('1'), /disposed/);
  });

  it('the watchdog terminates a worker whose guest cannot stop itself, and a fresh worker follows', async () => {
    // The unmetered build has no fuel or deadline checks inside wasm: only the watchdog can stop it.
    const sb = await createUnmeteredSandbox({ isolation: 'worker', limits: { timeoutMs: 300 } });
    try {
      await sb.run('state = 1');
      const r = await sb.run('print("before")\nwhile True: pass');
      assert.equal(r.error?.kind, 'timeout');
      assert.match(r.error!.message, /terminated by the watchdog/);
      assert.equal(r.stdout, 'before\n');
      assert.equal(r.sandboxReplaced, true);
      assert.ok(r.usage.wallMs >= 300, `stopped too early: ${r.usage.wallMs}`);
      const after = await sb.run('print("state" in globals())');
      assert.equal(after.stdout, 'False\n');
    } finally {
      sb.dispose();
    }
  });

  it('the unmetered build is not part of the public API', async () => {
    assert.equal('createUnmetered' in Sandbox, false);
    const entry = await import('../src/index.js');
    assert.equal('createUnmeteredSandbox' in entry, false);
  });
});
