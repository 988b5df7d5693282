// The host channel under attack: requests are checked (granted name, size, nesting, int digits) before
// anything is decoded, on the guest's own thread; dict keys that act on JavaScript prototypes are
// refused; deep and cyclic values are a ValueError both ways; the host's memory stays bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, type HostValue } from '../src/index.js';
import { MAX_INT_DIGITS } from '../src/capabilities/host-codec.js';
import { MAX_REQUEST_BYTES } from '../src/capabilities/host-call-gate.js';

const RAW = (payload: string) => `print(__pyfence__.chan(${JSON.stringify(payload)}))`;

describe('host channel: checks before decoding', () => {
  it('a deeply nested request leaves the host memory bounded (run first: it measures RSS)', async () => {
    const sb = await Sandbox.create({ modules: { m: { f: () => 1 } } });
    try {
      const before = process.memoryUsage().rss;
      const r = await sb.run(`n = 5_000_000\ns = '["m", "f", [' + '[' * n + ']' * n + '], null]'\nprint(__pyfence__.chan(s))`);
      const grown = process.memoryUsage().rss - before;
      assert.match(r.stdout, /ValueError.*nested more than 64 levels/);
      assert.ok(grown < 200e6, `host RSS grew by ${(grown / 1e6).toFixed(0)} MB`);
    } finally {
      sb.dispose();
    }
  });

  it('names a function that is not granted: refused before the arguments are decoded', async () => {
    const sb = await Sandbox.create({ modules: { m: { f: () => 1 } } });
    try {
      const r = await sb.run(RAW('["m", "nothere", [{"$bytes": 5}], null]'));
      assert.match(r.stdout, /AttributeError.*has no function 'nothere'/);
      const none = await Sandbox.create();
      const r2 = await none.run(RAW('["m", "f", [{"$int": "zz"}], null]'));
      none.dispose();
      assert.match(r2.stdout, /AttributeError/);
    } finally {
      sb.dispose();
    }
  });

  it('bounds each int, the whole request and malformed tags, with a Python error', async () => {
    const seen: unknown[] = [];
    const sb = await Sandbox.create({ modules: { m: { f: (x: unknown) => (seen.push(x), 1) } }, limits: { memoryBytes: 128 << 20, timeoutMs: 60_000 } });
    try {
      const r = await sb.run(`
import m
try:
    m.f(10 ** ${MAX_INT_DIGITS})
except ValueError as e:
    print('int', e)
print('ok', m.f(10 ** ${MAX_INT_DIGITS - 1}))
print('size', __pyfence__.chan('["m", "f", ["' + 'x' * ${MAX_REQUEST_BYTES} + '"], null]'))
${RAW('["m", "f", [{"$int": "0x1f"}], null]')}
${RAW('["m", "f", [], 5]')}
`);
      r.throwIfError();
      const lines = r.stdout.split('\n');
      assert.match(lines[0], /^int an int passed to the host may have at most 10000 digits/);
      assert.equal(lines[1], 'ok 1');
      assert.match(lines[2], /^size .*ValueError.*a host call may carry at most 16777216 bytes/);
      assert.match(lines[3], /TypeError.*malformed int/);
      assert.match(lines[4], /TypeError.*malformed keyword arguments/);
      assert.deepEqual(seen, [10n ** BigInt(MAX_INT_DIGITS - 1)]);
    } finally {
      sb.dispose();
    }
  });

  it('a hostile request from a worker sandbox does not block the main thread', async () => {
    const sb = await Sandbox.create({ isolation: 'worker', modules: { m: { f: () => 1 } }, limits: { memoryBytes: 128 << 20, timeoutMs: 20_000 } });
    try {
      let worst = 0;
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last);
        last = now;
      }, 20);
      // Decoding this int on the main thread took about 15 s.
      const r = await sb.run(`print(__pyfence__.chan('["m", "f", [{"$int": "' + '9' * 12_000_000 + '"}], null]'))`);
      clearInterval(probe);
      assert.match(r.stdout, /at most 10000 digits/);
      assert.ok(worst < 2000, `the main thread stalled for ${worst.toFixed(0)} ms`);
    } finally {
      sb.dispose();
    }
  });
});

describe('host channel: prototype keys', () => {
  for (const isolation of ['inline', 'worker'] as const) {
    it(`refuses __proto__, constructor and prototype as dict keys (${isolation})`, async () => {
      const calls: unknown[] = [];
      const sb = await Sandbox.create({
        isolation,
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
      });
      try {
        const r = await sb.run(`
import h
for arg in ({'__proto__': {'polluted': 'yes'}}, {'constructor': {'prototype': {'polluted': 1}}},
            {'ok': [{'prototype': 1}]}):
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
`);
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
      } finally {
        sb.dispose();
      }
    });
  }
});

describe('host channel: deep and cyclic values', () => {
  it('are a ValueError both ways, also from deep in a recursion', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const sb = await Sandbox.create({
      modules: {
        h: {
          echo: (x: HostValue) => x,
          // Hostile host values, which the type would refuse: the codec must refuse them too.
          cyclic: () => cyclic as unknown as HostValue,
          deep: (n: HostValue) => {
            let v: unknown[] = [];
            for (let i = 0; i < (n as number); i++) v = [v];
            return v as HostValue;
          },
        },
      },
    });
    try {
      const r = await sb.run(`
import h
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
nested(60)
`);
      r.throwIfError();
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], 'cyclic list ValueError a cyclic value cannot be passed to the host');
      assert.equal(lines[1], 'cyclic dict ValueError a cyclic value cannot be passed to the host');
      assert.match(lines[2], /^host cyclic ValueError .*a cyclic value/);
      assert.match(lines[3], /^host deep ValueError .*nested more than 64 levels/);
      assert.equal(lines[4], 'host 64 ok');
      assert.match(lines[5], /^guest deep ValueError a value nested more than 64 levels/);
      assert.match(lines[6], /^deep stack (ok|ValueError)/);
    } finally {
      sb.dispose();
    }
  });
});
