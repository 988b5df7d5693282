// The guest reaches nothing of the host: no JS objects through js/jsffi (even where the import
// policy allows those modules), no files, no interference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';

async function py(code: string): Promise<string> {
  const sb = await Sandbox.create({ imports: { allow: ['js', 'jsffi'] } });
  const r = await sb.run(code);
  sb.dispose();
  r.throwIfError();
  return r.stdout;
}

describe('isolation from the host', () => {
  it('import js gives a module with nothing of the host in it', async () => {
    const out = await py(`
import js
print(sorted(dir(js)))
for name in ["process", "globalThis", "Function", "require", "eval", "console", "fetch", "Object"]:
    try:
        getattr(js, name)
        print("REACHED", name)
    except AttributeError:
        pass
print("done")
`);
    assert.equal(out, "['__class__', '__dict__', '__name__']\ndone\n");
    // The host channel the prelude captured at build time is not reachable by name.
    assert.equal(await py('import js\nprint(hasattr(js, "__pyfence_host__"))'), 'False\n');
  });

  it('jsffi conversions yield inert undefined values, never host objects', async () => {
    const out = await py(`
import jsffi
vals = [jsffi.to_js({"a": 1}), jsffi.to_js([1, 2]), jsffi.create_proxy(lambda: 1)]
for v in vals:
    for attr in ["constructor", "__proto__", "prototype", "call", "apply", "then"]:
        try:
            getattr(v, attr)
            print("REACHED", attr)
        except AttributeError:
            pass
    for op in [lambda: v[0], lambda: v(), lambda: list(v)]:
        try:
            r = op()
            print("RESULT", repr(r))
        except (TypeError, AttributeError):
            pass
print("done")
`);
    assert.equal(out, 'done\n');
  });

  it('host files are absent', async () => {
    const out = await py(`
import os, errno
for p in ["/etc/passwd", "/proc/self/environ", "/etc", "package.json", "./src", "/work", "/tmp"]:
    try:
        open(p).read()
        print("READ", p)
    except OSError as e:
        assert e.errno == errno.ENOENT, (p, e.errno)
    try:
        os.stat(p)
        print("STAT", p)
    except OSError:
        pass
try:
    open("/tmp/pyfence-escape", "w").write("x")
    print("WROTE")
except OSError:
    pass
print("done")
`);
    assert.equal(out, 'done\n');
  });

  it('no environment of the host is visible', async () => {
    const out = await py(`
import os, sys
print(getattr(os, "environ", {}) == {} or len(os.environ) == 0, sys.argv)
`);
    assert.equal(out, 'True []\n');
  });

  it('two live sandboxes do not interfere', async () => {
    const a = await Sandbox.create();
    const b = await Sandbox.create();
    await a.run('import sys\nsys.modules["shared"] = 1\nx = [1, 2, 3]');
    await b.run('x = "b"');
    assert.equal((await a.run('print(x, "shared" in __import__("sys").modules)')).stdout, '[1, 2, 3] True\n');
    assert.equal((await b.run('print(x, "shared" in __import__("sys").modules)')).stdout, 'b False\n');
  });
});
