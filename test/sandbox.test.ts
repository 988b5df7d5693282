import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PythonError, Sandbox, UsageError, OutputLimitError, MemoryLimitError } from '../src/index.js';

describe('Sandbox', () => {
  it('runs Python and captures stdout', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run('print(1 + 1)\nprint("é✓")');
    assert.equal(r.ok, true);
    assert.equal(r.stdout, '2\né✓\n');
    assert.equal(r.stderr, '');
    assert.equal(r.error, null);
    assert.ok(r.usage.wallMs >= 0);
    assert.ok(r.usage.memoryPeakBytes >= 1024 * 1024);
    sb.dispose();
  });

  it('keeps globals between runs of one sandbox', async () => {
    const sb = await Sandbox.create();
    (await sb.run('def add(a, b):\n    return a + b\ncounter = 40')).throwIfError();
    const r = await sb.run('counter += 2\nprint(add(counter, 0))');
    assert.equal(r.stdout, '42\n');
    sb.dispose();
  });

  it('returns a Python exception as a result with type, message and traceback', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run('def f():\n    raise ValueError("bad value")\nprint("before")\nf()');
    assert.equal(r.ok, false);
    assert.equal(r.stdout, 'before\n');
    assert.deepEqual(
      { kind: r.error?.kind, type: r.error?.type, message: r.error?.message },
      { kind: 'python', type: 'ValueError', message: 'bad value' },
    );
    assert.match(r.error!.traceback!, /File "<stdin>", line 2, in f\nValueError: bad value\n$/);
    assert.equal(r.sandboxReplaced, false);
    assert.throws(() => r.throwIfError(), (e: unknown) => e instanceof PythonError && e.type === 'ValueError');
    // The sandbox is still usable after an exception.
    assert.equal((await sb.run('print(3)')).stdout, '3\n');
  });

  it('treats sys.exit(0) as success and sys.exit(n) as an error', async () => {
    const sb = await Sandbox.create();
    assert.equal((await sb.run('import sys\nprint("a")\nsys.exit(0)\nprint("b")')).ok, true);
    const r = await sb.run('import sys\nsys.exit(3)');
    assert.equal(r.ok, false);
    assert.equal(r.error?.type, 'SystemExit');
  });

  it('input() raises EOFError at once: the sandbox has no stdin', async () => {
    const sb = await Sandbox.create({ limits: { timeoutMs: 30_000 } });
    const r = await sb.run('try:\n    input("name? ")\nexcept EOFError:\n    print("eof")');
    assert.equal(r.stdout, 'name? eof\n'); // the prompt is printed, as CPython does at EOF
    assert.ok(r.usage.wallMs < 10_000, `took ${r.usage.wallMs} ms`); // not waiting until the time limit
    const uncaught = await sb.run('input()');
    assert.equal(uncaught.error?.type, 'EOFError');
  });

  it('streams output to callbacks as it is printed', async () => {
    const sb = await Sandbox.create();
    const chunks: string[] = [];
    const errs: string[] = [];
    const r = await sb.run('import sys\nprint("one")\nsys.stderr.write("warn\\n")\nprint("two")', {
      onStdout: (t) => chunks.push(t),
      onStderr: (t) => errs.push(t),
    });
    assert.equal(chunks.join(''), 'one\ntwo\n');
    assert.equal(errs.join(''), 'warn\n');
    assert.equal(r.stderr, 'warn\n');
  });

  it('stops at the output cap, keeps what was printed, and replaces the interpreter', async () => {
    const sb = await Sandbox.create({ limits: { outputBytes: 100 } });
    await sb.run('kept = 1');
    const r = await sb.run('while True:\n    print("0123456789")');
    assert.equal(r.error?.kind, 'output');
    assert.equal(r.stdout.length, 100);
    assert.ok(r.stdout.startsWith('0123456789\n'));
    assert.equal(r.sandboxReplaced, true);
    assert.throws(() => r.throwIfError(), OutputLimitError);
    const after = await sb.run('print("kept" in globals())');
    assert.equal(after.stdout, 'False\n');
  });

  it('refuses memory growth past the cap with MemoryError (kind memory)', async () => {
    const sb = await Sandbox.create({ limits: { memoryBytes: 16 * 1024 * 1024 } });
    const r = await sb.run('chunks = []\nwhile True:\n    chunks.append(bytearray(1024 * 1024))');
    assert.equal(r.error?.kind, 'memory');
    assert.equal(r.error?.type, 'MemoryError');
    assert.ok(r.usage.memoryPeakBytes <= 16 * 1024 * 1024, `peak ${r.usage.memoryPeakBytes}`);
    assert.throws(() => r.throwIfError(), MemoryLimitError);
    // A caught MemoryError is just Python.
    const caught = await sb.run('try:\n    x = bytearray(10**9)\nexcept MemoryError:\n    print("caught")');
    assert.equal(caught.stdout, 'caught\n');
  });

  it('rejects bad options and use after dispose with UsageError', async () => {
    await assert.rejects(Sandbox.create({ limits: { memoryBytes: -1 } }), UsageError);
    await assert.rejects(Sandbox.create({ limits: { memoryBytes: 1.5 } }), UsageError);
    await assert.rejects(Sandbox.create({ bogus: 1 } as never), /unknown sandbox option "bogus"/);
    await assert.rejects(Sandbox.create({ limits: { fuell: 1 } } as never), /unknown limits option "fuell"/);
    const sb = await Sandbox.create();
    sb.dispose();
    assert.equal(sb.disposed, true);
    await assert.rejects(sb.run('1'), /disposed/);
  });

  it('gives each sandbox its own interpreter and its own random seed', async () => {
    const a = await Sandbox.create();
    const b = await Sandbox.create();
    await a.run('secret = "only in a"');
    const r = await b.run('print("secret" in globals())');
    assert.equal(r.stdout, 'False\n');
    const draws = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const sb = await Sandbox.create();
      draws.add((await sb.run('import random\nprint(random.getrandbits(32), random.getrandbits(32))')).stdout);
    }
    assert.equal(draws.size, 4, 'fresh sandboxes must not share a random sequence');
  });
});
