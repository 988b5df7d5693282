// Grants under engine 'cpython': host functions through the host channel (the same codec and gate as
// MicroPython's), the network through `requests` against a real server, the import policy, inputs and
// the value of the last expression. The guest owns its half of the channel, so every attack is written
// as the guest would: raw requests on the channel's descriptor, for functions it was not granted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Sandbox, Tuple, UsageError, type HostModules, type HostValue, type RunResult, type SandboxOptions } from '../src/index.js';
import { MAX_REQUEST_BYTES } from '../src/capabilities/host-call-gate.js';
import { MAX_INT_DIGITS } from '../src/capabilities/host-codec.js';
import { HOST_CHANNEL_FD } from '../src/guests/cpython/host-channel.js';

const CPY = { engine: 'cpython' } as const;

async function runIn(options: SandboxOptions, code: string, runOptions: Parameters<Sandbox['run']>[1] = {}): Promise<RunResult> {
  const sb = await Sandbox.create({ ...CPY, ...options });
  try {
    return await sb.run(code, runOptions);
  } finally {
    sb.dispose();
  }
}

/** Python that sends one raw request on the channel and prints the host's answer. */
const RAW = (payload: string) => `print(raw(${JSON.stringify(payload)}))`;
const RAW_HELPER = `
import os
def raw(text):
    os.write(${HOST_CHANNEL_FD}, text.encode() if type(text) is str else text)
    out = b""
    while part := os.read(${HOST_CHANNEL_FD}, 65536):
        out += part
    return out.decode()
`;

describe('CPython host functions', () => {
  it('round-trips every codec type both ways without loss', async () => {
    const seen: unknown[] = [];
    const r = await runIn(
      { modules: { store: { put: (value: HostValue) => (seen.push(value), value) } } },
      `
import store
value = {"none": None, "flags": [True, False], "small": -7, "big": 2**100, "neg_big": -(3**50),
         "float": 0.1, "tiny": 5e-324, "inf": float("inf"), "text": "é✓\\u2028\\x00", "bytes": b"\\x00\\xff\\n",
         "ba": bytearray(b"ab"), "tuple": (1, (2, "x")), "nested": {"a": {"b": [[], {}, ()]}}}
back = store.put(value)
print(back == {**value, "ba": b"ab"}, type(back["tuple"]) is tuple, type(back["tuple"][1]) is tuple, back["big"] == 2**100)
nan = store.put(float("nan"))
print(nan != nan)
`,
    );
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
    assert.deepEqual(host.ba, new Uint8Array([97, 98]));
    assert.ok(host.tuple instanceof Tuple);
    assert.deepEqual(host.nested, { a: { b: [[], {}, new Tuple()] } });
    assert.equal(Object.getPrototypeOf(host), Object.prototype);
    assert.ok(Number.isNaN(seen[1]));
  });

  it('passes random doubles exactly in both directions, and ints past 2**53 as bigint', async () => {
    // Integral doubles cross as ints (JavaScript does not tell them apart): not these.
    const doubles = Array.from({ length: 500 }, () => (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 40 - 20)).filter((x) => !Number.isInteger(x));
    let back: unknown = null;
    const r = await runIn(
      { modules: { data: { get: () => doubles, check: (xs: HostValue) => (back = xs), big: () => [2n ** 64n, -(2n ** 53n), 2 ** 53 - 1] } } },
      'import data\nxs = data.get()\nprint(all(type(x) is float for x in xs))\ndata.check(xs)\nprint(data.big())',
    );
    r.throwIfError();
    assert.equal(r.stdout, `True\n[18446744073709551616, -9007199254740992, 9007199254740991]\n`);
    assert.deepEqual(back, doubles);
  });

  it('passes positional and keyword arguments (keywords as one last object)', async () => {
    const calls: unknown[][] = [];
    const r = await runIn({ modules: { m: { f: (...args: unknown[]) => (calls.push(args), args.length) } } }, 'import m\nprint(m.f(), m.f(1, "a"), m.f(1, key="v", n=2))');
    r.throwIfError();
    assert.equal(r.stdout, '0 2 2\n');
    assert.deepEqual(calls, [[], [1, 'a'], [1, { key: 'v', n: 2 }]]);
  });

  it('gives the guest no host object: functions, class instances, maps, symbols are TypeErrors', async () => {
    class Secret {
      token = 'x';
    }
    const r = await runIn(
      {
        modules: {
          evil: {
            fn: () => () => process.exit(1),
            instance: () => new Secret(),
            map: () => new Map([['a', 1]]),
            nested: () => ({ ok: 1, deep: [{ f: Math.max }] }),
            sym: () => Symbol('s'),
            proc: () => process,
          } as unknown as HostModules[string],
        },
      },
      `
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
print(repr(evil), sorted(k for k in vars(evil) if not k.startswith("_")))
`,
    );
    r.throwIfError();
    assert.equal(
      r.stdout,
      'fn TypeError\ninstance TypeError\nmap TypeError\nnested TypeError\nsym TypeError\nproc TypeError\n' +
        "host module 'evil' has no function 'constructor'\n<module 'evil' (host functions)> ['fn', 'instance', 'map', 'nested', 'proc', 'sym']\n",
    );
  });

  it('refuses guest values that are not data with a TypeError, before calling anything', async () => {
    let called = false;
    const r = await runIn(
      { modules: { m: { f: () => (called = true) } } },
      `
import m
class C: pass
for bad in (C(), print, {1: "int key"}, {"s": {1, 2}}, iter([]), 1j):
    try:
        m.f(bad)
        print("passed")
    except TypeError as e:
        print("TypeError", e)
`,
    );
    r.throwIfError();
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 6);
    for (const line of lines) assert.match(line, /^TypeError /);
    assert.match(lines[0], /cannot pass 'C' to the host \(only None, bool, int, float, str, bytes, list, tuple and dict\)/);
    assert.match(lines[2], /dict keys passed to the host must be str, not 'int'/);
    assert.equal(called, false);
  });

  it('raises a host error in Python with its message, not its stack', async () => {
    const r = await runIn(
      {
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
      },
      `
import m
for name in ("plain", "range", "type", "str"):
    try:
        getattr(m, name)()
    except Exception as e:
        print(type(e).__name__, e)
m.plain()
`,
    );
    assert.equal(r.stdout, 'RuntimeError it broke\nValueError out of range\nTypeError wrong type\nRuntimeError a string\n');
    assert.equal(r.error?.kind, 'python');
    assert.equal(r.error?.type, 'RuntimeError');
    assert.equal(r.error?.message, 'it broke');
    // The program's frames only: neither the host's stack nor the sandbox's own Python.
    assert.equal(r.error?.traceback, 'Traceback (most recent call last):\n  File "<stdin>", line 8, in <module>\n    m.plain()\n    ~~~~~~~^^\nRuntimeError: it broke\n');
  });

  it('reads answers of any size (exactly two read buffers, several), within the memory cap', async () => {
    const exact = 2 * 65536 - '{"ok":""}'.length;
    const r = await runIn(
      { modules: { m: { text: (n: HostValue) => 'é'.repeat(Number(n) / 2) + 'x'.repeat(Number(n) % 2), huge: () => 'y'.repeat(100 << 20) } } },
      `import m\nprint(len(m.text(${exact}).encode()), len(m.text(300_001).encode()), len(m.text(0)))\nm.huge()`,
      { limits: { timeoutMs: 120_000 } }, // the memory cap must end it, not the clock (100 MiB crosses slowly on a loaded machine)
    );
    assert.equal(r.stdout, `${exact} 300001 0\n`);
    assert.equal(r.error?.kind, 'memory', JSON.stringify(r.error));
  });

  it('has no module that was not granted, no function that was not granted', async () => {
    const r = await runIn(
      { modules: { m: { f: () => 1 } } },
      'import m\ntry:\n    import weather\nexcept ImportError as e:\n    print(type(e).__name__)\nprint(m.f())\nm.g()',
    );
    assert.equal(r.stdout, 'ModuleNotFoundError\n1\n');
    assert.equal(r.error?.type, 'AttributeError');
    assert.equal(r.error?.message, "host module 'm' has no function 'g'");
    // Grants stay with their sandbox: the next interpreter made from the same template has none.
    const next = await runIn({}, 'import sys\nprint("m" in sys.modules, "requests" in sys.modules)\nimport m');
    assert.equal(next.stdout, 'False False\n');
    assert.equal(next.error?.type, 'ModuleNotFoundError');
  });

  it('says at once that an inline sandbox cannot wait for a Promise (plain or async function)', async () => {
    const started = performance.now();
    const r = await runIn(
      { isolation: 'inline', modules: { m: { later: () => Promise.resolve(1), never: () => new Promise(() => {}), declared: async () => 2 } } },
      `
import m
for f in (m.later, m.never, m.declared):
    try:
        f()
    except RuntimeError as e:
        print(e)
`,
      { limits: { timeoutMs: 20_000 } },
    );
    r.throwIfError();
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^m\.\w+ returned a Promise, which an inline sandbox cannot wait for .*isolation: 'worker'/);
    assert.ok(performance.now() - started < 15_000, 'no wait for the Promise');
  });

  it('keeps grants in a fresh interpreter after a hard stop', async () => {
    const sb = await Sandbox.create({ ...CPY, modules: { m: { one: () => 1 } }, env: { A: 'b' } });
    try {
      const stopped = await sb.run('while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass', { limits: { fuel: 50_000_000 } });
      assert.equal(stopped.sandboxReplaced, true);
      const r = await sb.run('import m, os\nprint(m.one(), os.getenv("A"))');
      assert.equal(r.stdout, '1 b\n');
    } finally {
      sb.dispose();
    }
  });

  it('a sync host function that outlasts the deadline ends the run as a timeout', async () => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    const r = await runIn(
      { modules: { m: { slow: () => (Atomics.wait(cell, 0, 0, 600), 1) } } },
      'import m\nprint("calling")\nm.slow()\nwhile True:\n    pass',
      { limits: { timeoutMs: 200, fuel: Infinity } },
    );
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.stdout, 'calling\n');
  });

  it('charges each request as host work: fuel grows with its size', async () => {
    const n = 1_000_000;
    const fuelOf = async (send: string) => {
      const r = await runIn({ modules: { m: { f: () => 1 } } }, `${RAW_HELPER}\nbig = b'["m", "f", ["' + b'x' * ${n} + b'"], null]'\nsmall = b'["m", "f", [], null]'\nraw(${send})`);
      r.throwIfError();
      return r.usage.fuel;
    };
    const small = await fuelOf('small');
    const big = await fuelOf('big');
    // HOST_WORK_FUEL.channelByte is 4 a byte; the guest's own work for a bigger write is about the same.
    assert.ok(big - small > 3.5 * n, `${big} - ${small}`);
  });
});

describe('CPython host channel under attack', () => {
  it('decides every call on the host: forged requests reach nothing ungranted, and are audited', async () => {
    let called = 0;
    const r = await runIn(
      { modules: { m: { ok: () => ++called } } },
      `${RAW_HELPER}
import json, sys, _pyfence, _pyfence_bridge
for req in (["m", "constructor", [], None], ["m", "__proto__", [], None], ["other", "f", [], None],
            ["__net__", "request", [{"$dict": {"url": "http://127.0.0.1:1/"}}], None], "not json", ["m"]):
    print(json.loads(raw(req if type(req) is str else json.dumps(req)))["error"][0])
print(json.loads(raw(b'["m", "ok", [], null]\\xff\\xfe'))["error"])
# The guest grants itself a module and the network: the host still refuses both.
_pyfence.setup({}, [], '{"modules": {"fake": {"f": false}}, "net": true}')
import fake, requests
for f in (fake.f, lambda: requests.get("http://127.0.0.1:1/")):
    try:
        f()
    except Exception as e:
        print(type(e).__name__, e)
`,
    );
    r.throwIfError();
    assert.equal(
      r.stdout,
      'AttributeError\nAttributeError\nAttributeError\nAttributeError\nValueError\nValueError\n' +
        "['ValueError', 'malformed host call']\n" +
        "AttributeError host module 'fake' has no function 'f'\nAttributeError host module '__net__' has no function 'request'\n",
    );
    assert.equal(called, 0);
    const events = r.audit.events.filter((e) => e.kind === 'host-call');
    assert.equal(events.length, 9, JSON.stringify(r.audit));
    assert.match(events[0].detail, /host module 'm' has no function 'constructor'/);
  });

  it('bounds each int, the whole request, the buffers of one write and malformed tags', async () => {
    const seen: unknown[] = [];
    const r = await runIn(
      { modules: { m: { f: (x: unknown) => (seen.push(x), 1) } }, limits: { memoryBytes: 160 << 20, timeoutMs: 60_000 } },
      `${RAW_HELPER}
import m
try:
    m.f(10 ** ${MAX_INT_DIGITS})
except ValueError as e:
    print('int', e)
try:
    m.f(10 ** 100_000)
except ValueError as e:
    print('huge int', e)
print('ok', m.f(10 ** ${MAX_INT_DIGITS - 1}))
print('size', raw(b'["m", "f", ["' + b'x' * ${MAX_REQUEST_BYTES} + b'"], null]'))
${RAW('["m", "f", [{"$int": "0x1f"}], null]')}
${RAW('["m", "f", [], 5]')}
${RAW('["m", "f", [{"$bytes": "zz"}], null]')}
try:
    os.writev(${HOST_CHANNEL_FD}, [b"x"] * 2000)
except OSError as e:
    print('writev', e.errno == __import__('errno').EINVAL)
os.writev(${HOST_CHANNEL_FD}, [b'["m", "f", ', b'["two buffers"], null]'])
print('two', os.read(${HOST_CHANNEL_FD}, 100))
`,
    );
    r.throwIfError();
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /^int an int passed to the host may have at most 10000 digits/);
    assert.match(lines[1], /^huge int an int passed to the host may have at most 10000 digits/);
    assert.equal(lines[2], 'ok 1');
    assert.match(lines[3], /^size .*ValueError.*a host call may carry at most 16777216 bytes/);
    assert.match(lines[4], /TypeError.*malformed int/);
    assert.match(lines[5], /TypeError.*malformed keyword arguments/);
    assert.match(lines[6], /TypeError.*malformed bytes/);
    assert.equal(lines[7], 'writev True');
    assert.equal(lines[8], `two b'{"ok":1}'`);
    assert.deepEqual(seen, [10n ** BigInt(MAX_INT_DIGITS - 1), 'two buffers']);
  });

  it('a request nested millions deep is refused before parsing, the host memory bounded', async () => {
    const before = process.memoryUsage().rss;
    const r = await runIn(
      { modules: { m: { f: () => 1 } }, limits: { memoryBytes: 128 << 20 } },
      `${RAW_HELPER}\nn = 5_000_000\nprint(raw(b'["m", "f", [' + b'[' * n + b']' * n + b'], null]'))`,
    );
    const grown = process.memoryUsage().rss - before;
    assert.match(r.stdout, /ValueError.*nested more than 64 levels/);
    assert.ok(grown < 200e6, `host RSS grew by ${(grown / 1e6).toFixed(0)} MB`);
  });

  it('refuses __proto__, constructor and prototype as dict keys', async () => {
    const calls: unknown[] = [];
    const r = await runIn(
      {
        modules: {
          h: {
            merge: (o: HostValue) => {
              const target = {};
              Object.assign(target, o as object);
              calls.push(o);
              return Object.getPrototypeOf(target) === Object.prototype;
            },
          },
        },
      },
      `${RAW_HELPER}
import h
for arg in ({'__proto__': {'polluted': 'yes'}}, {'constructor': {'prototype': {'polluted': 1}}}, {'ok': [{'prototype': 1}]}):
    try:
        h.merge(arg)
        print('passed')
    except ValueError as e:
        print('ValueError', e)
try:
    h.merge(__proto__={'polluted': 1})
except ValueError as e:
    print('kwarg ValueError')
${RAW('["h", "merge", [{"$dict": {"__proto__": {"$dict": {"polluted": "yes"}}}}], null]')}
print(h.merge({'plain': 1, 'proto': 2}))
`,
    );
    r.throwIfError();
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^ValueError the dict key '__proto__' cannot be passed to the host/);
    assert.match(lines[1], /^ValueError the dict key 'constructor'/);
    assert.match(lines[2], /^ValueError the dict key 'prototype'/);
    assert.equal(lines[3], 'kwarg ValueError');
    assert.match(lines[4], /"ValueError"/);
    assert.equal(lines[5], 'True');
    assert.deepEqual(calls, [{ plain: 1, proto: 2 }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('deep and cyclic values are a ValueError both ways, also from deep in a recursion', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const r = await runIn(
      {
        modules: {
          h: {
            echo: (x: HostValue) => x,
            cyclic: () => cyclic as unknown as HostValue,
            deep: (n: HostValue) => {
              let v: unknown[] = [];
              for (let i = 0; i < (n as number); i++) v = [v];
              return v as HostValue;
            },
          },
        },
      },
      `
import h, sys
def attempt(label, f):
    try:
        f()
        print(label, 'ok')
    except ValueError as e:
        print(label, 'ValueError', e)
l = []; l.append(l)
d = {}; d['d'] = d
attempt('cyclic list', lambda: h.echo(l))
attempt('cyclic dict', lambda: h.echo({'x': [d]}))
attempt('host cyclic', h.cyclic)
attempt('host deep', lambda: h.deep(200))
attempt('host 64', lambda: h.deep(64))
v = []
for i in range(100):
    v = [v]
attempt('guest deep', lambda: h.echo(v))
def nested(k):
    if k == 0:
        attempt('deep stack', lambda: h.deep(64))
    else:
        nested(k - 1)
nested(sys.getrecursionlimit() - 80)
`,
    );
    r.throwIfError();
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'cyclic list ValueError a cyclic value cannot be passed to the host');
    assert.equal(lines[1], 'cyclic dict ValueError a cyclic value cannot be passed to the host');
    assert.match(lines[2], /^host cyclic ValueError .*a cyclic value/);
    assert.match(lines[3], /^host deep ValueError .*nested more than 64 levels/);
    assert.equal(lines[4], 'host 64 ok');
    assert.match(lines[5], /^guest deep ValueError a value nested more than 64 levels/);
    assert.match(lines[6], /^deep stack (ok|ValueError a value passed to or from the host is nested too deeply)/);
  });
});

// The server runs in its own thread: an inline sandbox blocks the main thread while it waits.
const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (status, body, headers = {}) => { res.writeHead(status, headers); res.end(body); };
  switch (url.pathname) {
    case '/json': return send(200, JSON.stringify({ hello: 'world', query: url.search, auth: req.headers.authorization ?? null }), { 'content-type': 'application/json' });
    case '/echo': { let b = ''; req.on('data', (c) => (b += c)); return req.on('end', () => send(200, JSON.stringify({ method: req.method, body: b, type: req.headers['content-type'] ?? null }))); }
    case '/to-json': return send(302, '', { location: '/json?via=redirect' });
    case '/to-outside': return send(302, '', { location: 'http://pyfence-denied.example/' });
    case '/to-other-port': return send(307, '', { location: 'http://127.0.0.1:' + url.searchParams.get('port') + '/json' });
    case '/big': return send(200, Buffer.alloc(300 * 1024, 97));
    case '/slow': return setTimeout(() => send(200, 'late'), 3000);
    case '/status': return send(Number(url.searchParams.get('code')), 'status body');
    default: return send(404, 'not here');
  }
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

function startServer(): Promise<{ port: number; stop: () => Promise<number> }> {
  const worker = new Worker(SERVER, { eval: true });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (port: number) => resolve({ port, stop: () => worker.terminate() }));
  });
}

describe('CPython network grant', () => {
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>; // a second server, on a port that is not granted
  before(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });
  const grant = () => ({ isolation: 'inline' as const, net: { allow: [`127.0.0.1:${a.port}`], maxResponseBytes: 100 * 1024, timeoutMs: 5000 } });

  it('performs allowed requests through requests', async () => {
    const r = await runIn(
      grant(),
      `
import requests
from requests.exceptions import HTTPError
base = "http://127.0.0.1:${a.port}"
r = requests.get(base + "/json", params={"q": "a b&c", "n": [1, 2]}, auth=("user", "pw"))
print(r.status_code, r.ok, r.headers["content-type"], r.json()["hello"], r.json()["query"], r.json()["auth"])
print(requests.get(base + "/to-json").json()["query"])
print(sorted(requests.post(base + "/echo", json={"x": [1, 2.5, None]}).json().items()))
print(sorted(requests.put(base + "/echo", data={"k": "v w"}).json().items()))
print(requests.delete(base + "/echo").json()["method"], requests.head(base + "/json").status_code)
s = requests.Session()
s.headers["Authorization"] = "Bearer t"
print(s.get(base + "/json").json()["auth"])
r = requests.get(base + "/status?code=503")
print(r.status_code, r.ok, r.text)
try:
    r.raise_for_status()
except HTTPError as e:
    print("HTTPError", e.response.status_code, isinstance(e, requests.RequestException))
`,
    );
    r.throwIfError();
    assert.equal(
      r.stdout,
      '200 True application/json world ?q=a+b%26c&n=1&n=2 Basic dXNlcjpwdw==\n' +
        '?via=redirect\n' +
        "[('body', '{\"x\": [1, 2.5, null]}'), ('method', 'POST'), ('type', 'application/json')]\n" +
        "[('body', 'k=v+w'), ('method', 'PUT'), ('type', 'application/x-www-form-urlencoded')]\n" +
        'DELETE 200\nBearer t\n503 False status body\nHTTPError 503 True\n',
    );
    assert.deepEqual(r.audit.events, []);
  });

  it('refuses hosts, ports, schemes and redirects off the list, audited; uncaught it is kind denied', async () => {
    const r = await runIn(
      grant(),
      `
import requests
base = "http://127.0.0.1:${a.port}"
for url in ("http://127.0.0.1:${b.port}/json", "http://localhost:${a.port}/json", "http://pyfence-denied.example/",
            "file:///etc/passwd", base + "/to-outside", base + "/to-other-port?port=${b.port}"):
    try:
        requests.get(url)
        print("ALLOWED", url)
    except PermissionError as e:
        print("denied", e)
requests.get("http://127.0.0.1:${b.port}/json")
`,
    );
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 6, r.stdout);
    for (const line of lines) assert.match(line, /^denied network access (to|with scheme) /);
    assert.match(lines[0], new RegExp(`to 127\\.0\\.0\\.1:${b.port} is not allowed`));
    assert.equal(r.error?.kind, 'denied');
    assert.equal(r.error?.type, 'PermissionError');
    assert.match(r.error!.message, new RegExp(`127\\.0\\.0\\.1:${b.port}`));
    const network = r.audit.events.filter((e) => e.kind === 'network');
    assert.equal(network.length, 7, JSON.stringify(r.audit));
    assert.match(network[0].detail, /not allowed in this sandbox/);
  });

  it('caps response size and time, and counts a request against the run deadline', async () => {
    const r = await runIn(
      grant(),
      `
import requests
base = "http://127.0.0.1:${a.port}"
try:
    requests.get(base + "/big")
except requests.RequestException as e:
    print(type(e).__name__, e)
try:
    requests.get(base + "/slow", timeout=0.3)
except requests.Timeout as e:
    print("Timeout")
`,
    );
    r.throwIfError();
    assert.equal(r.stdout, `ResponseTooLarge the response from 127.0.0.1:${a.port} is larger than the limit of 102400 bytes\nTimeout\n`);
    const slow = await runIn(grant(), `import requests\nrequests.get("http://127.0.0.1:${a.port}/slow")`, { limits: { timeoutMs: 300 } });
    assert.equal(slow.error?.kind, 'timeout');
  });

  it('has no requests module without a grant, and says why', async () => {
    const r = await runIn({}, 'import requests');
    assert.equal(r.error?.type, 'ImportError');
    assert.equal(r.error?.kind, 'denied');
    assert.match(r.error!.message, /network access is not granted to this sandbox/);
  });
});

describe('CPython import policy', () => {
  it('denies ctypes and the JS bridge modules by default, against the usual bypasses', async () => {
    const r = await runIn(
      {},
      `
import sys, importlib, builtins
def attempt(label, f):
    try:
        f()
        print(label, "GOT")
    except ImportError as e:
        print(label, e)
attempt("import", lambda: exec("import ctypes"))
attempt("from", lambda: exec("from ctypes import c_int"))
attempt("submodule", lambda: exec("import ctypes.util"))
attempt("__import__", lambda: __import__("_ctypes"))
attempt("importlib", lambda: importlib.import_module("js"))
attempt("pyodide", lambda: __import__("pyodide.ffi"))
sys.modules.pop("ctypes", None)
attempt("after sys.modules edit", lambda: __import__("ctypes"))
`,
    );
    r.throwIfError();
    assert.equal(
      r.stdout,
      "import module 'ctypes' is not allowed in this sandbox\nfrom module 'ctypes' is not allowed in this sandbox\n" +
        "submodule module 'ctypes' is not allowed in this sandbox\n__import__ module '_ctypes' is not allowed in this sandbox\n" +
        "importlib module 'js' is not allowed in this sandbox\npyodide module 'pyodide' is not allowed in this sandbox\n" +
        "after sys.modules edit module 'ctypes' is not allowed in this sandbox\n",
    );
    const uncaught = await runIn({}, 'import ctypes');
    assert.equal(uncaught.error?.kind, 'denied');
    assert.equal(uncaught.error?.message, "module 'ctypes' is not allowed in this sandbox");
    assert.deepEqual(uncaught.audit.events, [{ kind: 'denied-import', detail: 'ctypes' }]);
  });

  it('denies more modules with deny (also ones the template loaded) and re-enables defaults with allow', async () => {
    const r = await runIn(
      { imports: { deny: ['re', 'xml'], allow: ['micropip'] } },
      `
import sys
print("re" in sys.modules)
for name in ("re", "xml.dom", "sqlite3", "json", "micropip", "ctypes"):
    try:
        __import__(name)
        print(name, "ok")
    except ImportError as e:
        print(name, type(e).__name__, e)
`,
    );
    r.throwIfError();
    assert.equal(
      r.stdout,
      "False\nre ImportError module 're' is not allowed in this sandbox\nxml.dom ImportError module 'xml' is not allowed in this sandbox\n" +
        "sqlite3 ok\njson ok\nmicropip ModuleNotFoundError No module named 'micropip'\nctypes ImportError module 'ctypes' is not allowed in this sandbox\n",
    );
    const uncaught = await runIn({ imports: { deny: ['re'] } }, 'import re');
    assert.equal(uncaught.error?.kind, 'denied');
    assert.deepEqual(uncaught.audit.events, [{ kind: 'denied-import', detail: 're' }]);
  });

  it('a guest that lifts its own policy still reaches nothing: ctypes stops at the host, audited; pyodide is Python only', async () => {
    const lift = `import _pyfence\n_pyfence.setup({}, [], '{"denied": []}')\n`;
    const r = await runIn({}, `${lift}import ctypes\nprint("imported")`);
    assert.equal(r.stdout, '');
    assert.equal(r.error?.kind, 'denied', JSON.stringify(r.error));
    assert.match(r.error!.message, /^the host function \w+ is not available in this sandbox$/);
    assert.equal(r.sandboxReplaced, true);
    assert.deepEqual(r.audit.events, [{ kind: 'host-call', detail: r.error!.message }]);
    // Pyodide's Python package imports now that asyncio does (it used to stop at the poll hook), but
    // outside Pyodide it is stubs: the JS it would reach is not there.
    const py = await runIn({}, `${lift}import pyodide\nfrom pyodide.code import run_js\nrun_js("1")`);
    assert.equal(py.error?.type, 'ModuleNotFoundError', JSON.stringify(py.error));
    assert.match(py.error!.message, /No module named 'js'/);
    const js = await runIn({}, `${lift}import js`);
    assert.equal(js.error?.type, 'ModuleNotFoundError');
  });

  it('does not record the same text raised by the guest for a module that is not denied', async () => {
    const r = await runIn({}, `raise ImportError("module 'json' is not allowed in this sandbox")`);
    assert.equal(r.error?.type, 'ImportError');
    assert.deepEqual(r.audit.events, []);
  });

  it('rejects bad policies, and modules the CPython sandbox itself needs', async () => {
    for (const imports of [{ deny: ['json'] }, { deny: ['traceback'] }, { deny: ['x'], allow: ['x'] }, { deny: [1 as never] }, { only: [] } as never]) {
      await assert.rejects(Sandbox.create({ ...CPY, imports }), UsageError, JSON.stringify(imports));
    }
    // Not needed by MicroPython's sandbox: its policy accepts it.
    (await Sandbox.create({ imports: { deny: ['traceback'] } })).dispose();
  });
});

describe('CPython inputs and the value of the last expression', () => {
  it('sets inputs as globals, as data, and returns the last expression as data', async () => {
    const sb = await Sandbox.create(CPY);
    try {
      const inputs = { rows: [{ n: 1 }, { n: 2 }], label: 'x"); import os; ("', big: 2n ** 70n, pair: Tuple.of<HostValue>(1, 'a'), raw: new Uint8Array([0, 255]) };
      const r = await sb.run('total = sum(r["n"] for r in rows)\n(total, label, big + 1, type(pair).__name__, raw[1])', { inputs });
      assert.equal(r.ok, true, r.error?.traceback ?? '');
      assert.deepEqual([...(r.value as HostValue[])], [3, inputs.label, 2n ** 70n + 1n, 'tuple', 255]);
      assert.ok(r.value instanceof Tuple);
      await sb.run('rows.append(9)');
      assert.equal(inputs.rows.length, 2);
      assert.equal((await sb.run('len(rows)')).value, 3);
      assert.equal(sb.runSync('n + 1', { inputs: { n: 41 } }).value, 42);
    } finally {
      sb.dispose();
    }
  });

  it('has no value for statements, None or print, and a value after blank lines and comments', async () => {
    const sb = await Sandbox.create(CPY);
    try {
      assert.equal((await sb.run('x = 1')).value, undefined);
      assert.equal((await sb.run('print("hi")')).value, undefined);
      assert.equal((await sb.run('None')).value, undefined);
      assert.equal((await sb.run('for i in range(3):\n    i')).value, undefined);
      assert.equal((await sb.run('x * 2\n\n# done\n')).value, 2);
      assert.equal((await sb.run('x = 5\nx * (\n  3)')).value, 15);
      assert.deepEqual((await sb.run('{"a": [1, 2.5, None, True]}')).value, { a: [1, 2.5, null, true] });
      assert.deepEqual((await sb.run('[float("inf"), 2**60, (1,), b"z"]')).value, [Infinity, 2n ** 60n, Tuple.of<HostValue>(1), new Uint8Array([122])]);
      assert.equal((await sb.run('x = 2\nx == 2')).value, true);
      assert.equal((await sb.run('import collections\ncollections.Counter("aab")["a"]')).value, 2);
    } finally {
      sb.dispose();
    }
  });

  it('keeps the lines of the program in tracebacks when it ends in an expression', async () => {
    const r = await runIn({}, 'def f(n):\n    return 1 / n\n\nf(0)', { filename: 'calc.py' });
    assert.equal(r.error?.type, 'ZeroDivisionError');
    assert.deepEqual(r.error?.frames, [
      { filename: 'calc.py', line: 4, name: '<module>' },
      { filename: 'calc.py', line: 2, name: 'f' },
    ]);
  });

  it('reports a value that is not data in valueError, and the run still succeeds', async () => {
    const sb = await Sandbox.create(CPY);
    try {
      const fn = await sb.run('def f(): pass\nf');
      assert.equal(fn.ok, true);
      assert.equal(fn.value, undefined);
      assert.match(fn.valueError ?? '', /cannot leave the sandbox: TypeError: cannot pass 'function'/);
      const deep = await sb.run('l = []\nfor i in range(300): l = [l]\nl');
      assert.equal(deep.ok, true);
      assert.match(deep.valueError ?? '', /cannot leave the sandbox: ValueError: a value nested more than 64 levels/);
      const cyclic = await sb.run('c = [1]\nc.append(c)\nc');
      assert.match(cyclic.valueError ?? '', /cyclic/);
      const failed = await sb.run('1 / 0');
      assert.equal(failed.ok, false);
      assert.deepEqual([failed.value, failed.valueError], [undefined, null]);
    } finally {
      sb.dispose();
    }
  });

  it('refuses inputs that are not data or not valid names, before running anything', async () => {
    const sb = await Sandbox.create(CPY);
    try {
      await assert.rejects(sb.run('1', { inputs: { f: (() => 1) as never } }), /inputs\.f: cannot pass a function/);
      await assert.rejects(sb.run('1', { inputs: { __pyfence__: 1 } }), UsageError);
      await assert.rejects(sb.run('1', { inputs: { class: 1 } }), /not a valid global name/);
      await assert.rejects(sb.run('1', { inputs: [1] as never }), /inputs must be a plain object/);
      await assert.rejects(sb.run('1', { inputs: { m: new Map() as never } }), /inputs\.m: cannot pass a Map/);
      assert.equal((await sb.run('"class" in globals() or "f" in globals()')).value, false);
    } finally {
      sb.dispose();
    }
  });
});
