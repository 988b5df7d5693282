import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, UsageError, type HostModules, type HostValue } from '../src/index.js';
import { Tuple } from '../src/capabilities/host-codec.js';

function randomDoubles(n: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  const out: number[] = [];
  while (out.length < n) {
    view.setUint32(0, (Math.random() * 2 ** 32) >>> 0);
    view.setUint32(4, (Math.random() * 2 ** 32) >>> 0);
    const x = view.getFloat64(0);
    if (Number.isFinite(x) && !Number.isInteger(x)) out.push(x);
  }
  return out;
}

describe('host functions', () => {
  it('round-trips nested data both ways without loss', async () => {
    const seen: unknown[] = [];
    const sb = await Sandbox.create({
      modules: {
        store: {
          put: (value: HostValue) => {
            seen.push(value);
            return value;
          },
        },
      },
    });
    const r = await sb.run(`
import store
value = {"none": None, "flags": [True, False], "small": -7, "big": 2**100, "neg_big": -(3**50),
         "float": 0.1, "tiny": 5e-324, "inf": float("inf"), "text": "é✓\\u2028\\x00", "bytes": b"\\x00\\xff\\n",
         "tuple": (1, (2, "x")), "nested": {"a": {"b": [[], {}, ()]}}}
back = store.put(value)
print(back == value, type(back["tuple"]) is tuple, type(back["tuple"][1]) is tuple, back["big"] == 2**100)
nan = store.put(float("nan"))
print(nan != nan)
`);
    r.throwIfError();
    assert.equal(r.stdout, 'True True True True\nTrue\n');
    const host = seen[0] as Record<string, unknown>;
    assert.equal(host.big, 2n ** 100n);
    assert.equal(host.neg_big, -(3n ** 50n));
    assert.equal(host.small, -7);
    assert.equal(host.float, 0.1);
    assert.equal(host.tiny, 5e-324);
    assert.equal(host.inf, Infinity);
    assert.equal(host.text, 'é✓\u2028\x00');
    assert.deepEqual(host.bytes, new Uint8Array([0, 255, 10]));
    assert.ok(host.tuple instanceof Tuple);
    assert.deepEqual(host.nested, { a: { b: [[], {}, new Tuple()] } });
    assert.equal(Object.getPrototypeOf(host), Object.prototype);
    sb.dispose();
  });

  it('passes every double exactly in both directions', async () => {
    const doubles = randomDoubles(2000);
    const sb = await Sandbox.create({ modules: { data: { get: () => doubles, check: (xs: number[]) => xs } } });
    const r = await sb.run('import data\nxs = data.get()\nprint(all(type(x) is float for x in xs))\nback = data.check(xs)');
    r.throwIfError();
    assert.equal(r.stdout, 'True\n');
    sb.dispose();
    // The host's view of what came back: identical bit patterns.
    let back: number[] = [];
    const sb2 = await Sandbox.create({ modules: { data: { get: () => doubles, check: (xs: number[]) => (back = xs) } } });
    (await sb2.run('import data\ndata.check(data.get())')).throwIfError();
    assert.deepEqual(back, doubles);
    sb2.dispose();
  });

  it('passes positional and keyword arguments (keywords as one last object)', async () => {
    const calls: unknown[][] = [];
    const sb = await Sandbox.create({ modules: { m: { f: (...args: unknown[]) => (calls.push(args), args.length) } } });
    const r = await sb.run('import m\nprint(m.f(), m.f(1, "a"), m.f(1, key="v", n=2))');
    r.throwIfError();
    assert.equal(r.stdout, '0 2 2\n');
    assert.deepEqual(calls, [[], [1, 'a'], [1, { key: 'v', n: 2 }]]);
    sb.dispose();
  });

  it('gives the guest no host object: functions, class instances, symbols are TypeErrors', async () => {
    class Secret {
      token = 'x';
    }
    const sb = await Sandbox.create({
      modules: {
        // What the types refuse, handed over anyway (as untyped JavaScript could).
        evil: {
          fn: () => () => process.exit(1),
          instance: () => new Secret(),
          map: () => new Map([['a', 1]]),
          nested: () => ({ ok: 1, deep: [{ f: Math.max }] }),
          sym: () => Symbol('s'),
          proc: () => process,
        } as unknown as HostModules[string],
      },
    });
    const r = await sb.run(`
import evil
for name in ("fn", "instance", "map", "nested", "sym", "proc"):
    try:
        v = getattr(evil, name)()
        print(name, "LEAKED", v)
    except TypeError as e:
        print(name, "TypeError")
try:
    evil.constructor
except AttributeError as e:
    print(e)
import sys
print(type(evil).__name__, sorted([k for k in dir(evil) if not k.startswith("_")]))
`);
    r.throwIfError();
    assert.equal(
      r.stdout,
      'fn TypeError\ninstance TypeError\nmap TypeError\nnested TypeError\nsym TypeError\nproc TypeError\n' +
        "host module 'evil' has no function 'constructor'\nModule ['fn', 'instance', 'map', 'nested', 'proc', 'sym']\n",
    );
    sb.dispose();
  });

  it('refuses guest values that are not data, with a TypeError in Python', async () => {
    let called = false;
    const sb = await Sandbox.create({ modules: { m: { f: () => (called = true) } } });
    const r = await sb.run(`
import m
class C: pass
for bad in (C(), print, {1: "int key"}, {"s": {1, 2}}, iter([])):
    try:
        m.f(bad)
        print("passed")
    except TypeError as e:
        print("TypeError")
`);
    r.throwIfError();
    assert.equal(r.stdout, 'TypeError\n'.repeat(5));
    assert.equal(called, false);
    sb.dispose();
  });

  it('raises a host error in Python with its message, not its stack', async () => {
    const sb = await Sandbox.create({
      modules: {
        m: {
          plain: () => {
            throw new Error('it broke');
          },
          range: () => {
            throw new RangeError('out of range');
          },
          type: () => {
            throw new TypeError('wrong type');
          },
          str: () => {
            throw 'a string';
          },
        },
      },
    });
    const r = await sb.run(`
import m
for name in ("plain", "range", "type", "str"):
    try:
        getattr(m, name)()
    except Exception as e:
        print(type(e).__name__, e)
m.plain()
`);
    assert.equal(r.stdout, 'RuntimeError it broke\nValueError out of range\nTypeError wrong type\nRuntimeError a string\n');
    assert.equal(r.error?.type, 'RuntimeError');
    assert.equal(r.error?.message, 'it broke');
    assert.doesNotMatch(r.error!.traceback!, /host-functions|\.ts:|at /);
    sb.dispose();
  });

  it('gives only granted modules, environment and argv; nothing by default', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run(`
import os, sys
print(os.getenv("HOME"), os.getenv("PATH", "-"), os.environ, sys.argv)
try:
    import weather
except ImportError as e:
    print("ImportError")
`);
    r.throwIfError();
    assert.equal(r.stdout, 'None - {} []\nImportError\n');
    sb.dispose();
    const sb2 = await Sandbox.create({ env: { API_KEY: 'k1', LANG: 'C' }, argv: ['tool.py', '--x'] });
    const r2 = await sb2.run('import os, sys\nprint(os.getenv("API_KEY"), os.environ["LANG"], sys.argv)');
    assert.equal(r2.stdout, "k1 C ['tool.py', '--x']\n");
    sb2.dispose();
  });

  it('keeps grants in a fresh interpreter after a hard stop', async () => {
    const sb = await Sandbox.create({ modules: { m: { one: () => 1 } }, env: { A: 'b' } });
    const stopped = await sb.run('try:\n    while True: pass\nexcept BaseException:\n    while True: pass', {
      limits: { fuel: 5_000_000 },
    });
    assert.equal(stopped.sandboxReplaced, true);
    const r = await sb.run('import m, os\nprint(m.one(), os.getenv("A"))');
    assert.equal(r.stdout, '1 b\n');
    sb.dispose();
  });

  it('says that a Promise needs a worker sandbox, and async functions get one', async () => {
    const inline = await Sandbox.create({ isolation: 'inline', modules: { m: { later: () => Promise.resolve(1) } } });
    const r = await inline.run('import m\nm.later()');
    assert.equal(r.error?.type, 'RuntimeError');
    assert.match(r.error!.message, /returned a Promise, which an inline sandbox cannot wait for .*isolation: 'worker'/);
    inline.dispose();

    const sb = await Sandbox.create({
      modules: {
        m: {
          later: async (x: number) => {
            await new Promise((res) => setTimeout(res, 5));
            return { x, doubled: x * 2 };
          },
          fails: async () => {
            throw new TypeError('async failure');
          },
        },
      },
    });
    const r2 = await sb.run(`
import m
total = 0
for i in range(10):
    total += m.later(i)["doubled"]
print(total)
try:
    m.fails()
except TypeError as e:
    print("caught", e)
`);
    r2.throwIfError();
    assert.equal(r2.stdout, '90\ncaught async failure\n');
    sb.dispose();
  });

  it('counts time spent waiting on an async host function against the deadline', async () => {
    const sb = await Sandbox.create({
      modules: { m: { never: () => new Promise(() => {}), quick: async () => 7 } },
    });
    const r = await sb.run('import m\nprint("waiting")\nm.never()\nprint("not reached")', { limits: { timeoutMs: 300 } });
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.stdout, 'waiting\n');
    // The sandbox goes on working; the stale answer never arrives at a later call.
    const again = await sb.run('print(m.quick())');
    assert.equal(again.stdout, '7\n');
    sb.dispose();
  });

  it('decides every call on the host: forged requests through the channel reach nothing ungranted', async () => {
    let called = 0;
    const sb = await Sandbox.create({ modules: { m: { ok: () => ++called } } });
    const r = await sb.run(`
import json
chan = __pyfence__.chan
for req in (["m", "constructor", [], None], ["m", "__proto__", [], None], ["other", "f", [], None],
            ["__net__", "request", [{"$dict": {"url": "http://127.0.0.1:1/"}}], None], "not json", ["m"]):
    print(json.loads(chan(req if type(req) is str else json.dumps(req)))["error"][0])
__pyfence__.setup('{"modules": {"fake": {"f": false}}, "net": true}')
import fake, requests
for f in (fake.f, lambda: requests.get("http://127.0.0.1:1/")):
    try:
        f()
    except Exception as e:
        print(type(e).__name__)
print(chan(b"bytes") is None or type(chan(b"bytes")).__name__)
`);
    r.throwIfError();
    assert.equal(
      r.stdout,
      'AttributeError\nAttributeError\nAttributeError\nAttributeError\nValueError\nValueError\nAttributeError\nAttributeError\nundefined\n',
    );
    assert.equal(called, 0);
    sb.dispose();
  });

  it('rejects invalid grants with a UsageError', async () => {
    await assert.rejects(Sandbox.create({ modules: { 'bad-name': {} } }), UsageError);
    await assert.rejects(Sandbox.create({ modules: { m: { f: 1 as never } } }), UsageError);
    await assert.rejects(Sandbox.create({ modules: { __m: {} } }), UsageError);
    await assert.rejects(Sandbox.create({ env: { A: 1 as never } }), UsageError);
    await assert.rejects(Sandbox.create({ argv: 'x' as never }), UsageError);
  });
});
