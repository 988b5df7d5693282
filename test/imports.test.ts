import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, UsageError } from '../src/index.js';
import { cli } from './helpers.js';

/** Runs `attempts` (Python expressions that import uctypes) and prints how each ended. */
const ATTEMPTS = `
import sys, builtins
def attempt(label, f):
    try:
        m = f()
        print(label, "GOT", type(m).__name__)
    except ImportError as e:
        print(label, "ImportError")
attempt("import", lambda: exec("import uctypes"))
attempt("from", lambda: exec("from uctypes import bytearray_at"))
attempt("__import__", lambda: __import__("uctypes"))
attempt("u-alias", lambda: __import__("uuctypes"))
attempt("js", lambda: __import__("js"))
attempt("jsffi", lambda: __import__("jsffi"))
attempt("wrapper bypass", lambda: __pyfence__.original_import("uctypes"))
sys.modules["uctypes"] = sys
del sys.modules["uctypes"]
attempt("after sys.modules edit", lambda: __import__("uctypes"))
builtins.__import__ = __pyfence__.original_import
attempt("original __import__", lambda: exec("import uctypes"))
del builtins.__import__
attempt("after del __import__", lambda: exec("import uctypes"))
attempt("exec after del", lambda: exec("import js"))
`;

describe('import policy', () => {
  it('denies uctypes, js and jsffi by default, against every bypass attempt', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run(ATTEMPTS);
    r.throwIfError();
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 11, r.stdout);
    for (const line of lines) assert.match(line, / ImportError$/, line);
    // Uncaught, it is a policy denial (exit 7 on the CLI) saying why, even without the import wrapper.
    const uncaught = await sb.run('import uctypes');
    assert.equal(uncaught.error?.kind, 'denied');
    assert.equal(uncaught.error?.type, 'ImportError');
    assert.equal(uncaught.error?.message, "module 'uctypes' is not allowed in this sandbox");
    sb.dispose();
    // The message names the module and the reason.
    const fresh = await Sandbox.create();
    const msg = await fresh.run('try:\n    import uctypes\nexcept ImportError as e:\n    print(e)');
    assert.equal(msg.stdout, "module 'uctypes' is not allowed in this sandbox\n");
    fresh.dispose();
  });

  it('still lists modules with help("modules") and imports allowed ones', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run("help('modules')\nimport json, re, math, struct, hashlib\nprint(json.dumps([1]), math.floor(2.5))");
    r.throwIfError();
    assert.match(r.stdout, /Plus any modules on the filesystem/);
    assert.match(r.stdout, /\bjson\b/);
    assert.match(r.stdout, /\[1\] 2\n$/);
    sb.dispose();
  });

  it('denies more modules with deny and re-enables defaults with allow', async () => {
    const sb = await Sandbox.create({ imports: { deny: ['re', 'hashlib'], allow: ['uctypes'] } });
    const r = await sb.run(`
for name in ("re", "ure", "hashlib", "uctypes", "json"):
    try:
        __import__(name)
        print(name, "ok")
    except ImportError as e:
        print(name, e)
`);
    r.throwIfError();
    assert.equal(
      r.stdout,
      "re module 're' is not allowed in this sandbox\nure module 'ure' is not allowed in this sandbox\n" +
        "hashlib module 'hashlib' is not allowed in this sandbox\nuctypes ok\njson ok\n",
    );
    sb.dispose();
  });

  it('applies the restorer policy to a snapshot, and in worker sandboxes', async () => {
    const trusted = await Sandbox.create({ imports: { allow: ['uctypes'] } });
    (await trusted.run('import uctypes\nx = 1')).throwIfError();
    const bytes = await trusted.snapshot();
    trusted.dispose();
    const restored = await Sandbox.restore(bytes, { isolation: 'worker' });
    const r = await restored.run('print(x, "uctypes" in __import__("sys").modules)\nimport uctypes');
    assert.equal(r.stdout, '1 False\n');
    assert.equal(r.error?.kind, 'denied');
    restored.dispose();
  });

  it('rejects bad policies', async () => {
    await assert.rejects(Sandbox.create({ imports: { deny: ['json'] } }), UsageError);
    await assert.rejects(Sandbox.create({ imports: { deny: ['x'], allow: ['x'] } }), UsageError);
    await assert.rejects(Sandbox.create({ imports: { deny: [1 as never] } }), UsageError);
    await assert.rejects(Sandbox.create({ imports: { only: [] } as never }), UsageError);
  });

  it('exits 7 from the CLI on a denied import', () => {
    const r = cli(['run', '-c', 'import uctypes']);
    assert.equal(r.status, 7);
    assert.match(r.stderr, /module 'uctypes' is not allowed in this sandbox/);
  });
});
