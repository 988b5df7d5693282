// Limits stop hostile programs with the right kind and exit code, by default, and lose no output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox, FuelExhaustedError } from '../src/index.js';
import { cliAsync } from './helpers.js';

interface Case {
  name: string;
  code: string;
  codes: number[];
  args?: string[];
  /** For a case that must reach another limit first: long enough not to race it on a loaded machine. */
  timeout?: string;
}

// Under default limits but a 3 s timeout (30 s where another limit must come first); each must end
// by its deadline plus scheduling slack.
const HOSTILE: Case[] = [
  { name: 'busy loop', code: 'print("start")\nwhile True: pass', codes: [3, 4] },
  {
    name: 'busy loop swallowing interrupts',
    code: 'print("start")\nwhile True:\n    try:\n        while True: pass\n    except BaseException:\n        pass',
    codes: [3, 4],
  },
  { name: 'huge string', code: 'print("start")\nx = "a" * 10**9', codes: [3, 4, 5] },
  // Through a variable: MicroPython folds a constant 3 ** 10**8 at compile time, before any print.
  { name: 'huge power', code: 'print("start")\nn = 10**8\nx = 3 ** n', codes: [3, 4] },
  { name: 'list of 1 MiB bytearrays', code: 'print("start")\nx = []\nwhile True:\n    x.append(bytearray(2**20))', codes: [5], timeout: '30s' },
  { name: 'print flood', code: 'print("start")\nwhile True:\n    print("flood " * 10)', codes: [6], timeout: '30s' },
  { name: 'long sleep', code: 'print("start")\nimport time\ntime.sleep(10**5)', codes: [4] },
];

describe('hostile programs under default limits (and a 3 s timeout)', () => {
  it('each ends with its exit code, valid --json and the output before the stop', async () => {
    const results = await Promise.all(
      HOSTILE.map(async (c) => ({ c, r: await cliAsync(['run', '--json', '--timeout', c.timeout ?? '3s', '-c', c.code], { timeoutMs: 60_000 }) })),
    );
    for (const { c, r } of results) {
      assert.ok(c.codes.includes(r.status!), `${c.name}: exit ${r.status} not in ${c.codes}; ${r.stderr}`);
      const obj = JSON.parse(r.stdout);
      assert.equal(obj.ok, false, c.name);
      assert.ok(obj.stdout.startsWith('start\n'), `${c.name}: output before the stop was lost`);
      // Stopped by its deadline (or sooner), not run on: a bound a loaded 2-core machine keeps.
      const deadlineMs = c.timeout === '30s' ? 30_000 : 3000;
      assert.ok(obj.usage.wallMs < deadlineMs + 5000, `${c.name}: run took ${obj.usage.wallMs} ms`);
    }
  });
});

describe('limits', () => {
  it('--fuel 2000000 stops a busy loop quickly (exit 3)', async () => {
    const r = await cliAsync(['run', '--json', '--fuel', '2000000', '-c', 'while True: pass']);
    assert.equal(r.status, 3);
    const obj = JSON.parse(r.stdout);
    assert.equal(obj.error.kind, 'fuel');
    assert.ok(obj.usage.wallMs < 5000, `took ${obj.usage.wallMs} ms`); // far from the 10 s default timeout
  });

  it('--timeout 300ms stops a sleeping loop at its deadline, not before (exit 4)', async () => {
    const r = await cliAsync(['run', '--json', '--timeout', '300ms', '-c', 'import time\nwhile True:\n    time.sleep(0.05)']);
    assert.equal(r.status, 4);
    const obj = JSON.parse(r.stdout);
    assert.equal(obj.error.kind, 'timeout');
    // Never before the deadline (the same clock); after it only by scheduling delay.
    assert.ok(obj.usage.wallMs >= 300 && obj.usage.wallMs < 300 + 3000, `took ${obj.usage.wallMs} ms`);
  });

  it('soft stop: KeyboardInterrupt runs finally blocks and keeps the sandbox', async () => {
    const sb = await Sandbox.create({ limits: { fuel: 5_000_000 } });
    await sb.run('state = "kept"');
    const r = await sb.run('try:\n    while True: pass\nfinally:\n    print("cleanup ran")');
    assert.equal(r.error?.kind, 'fuel');
    assert.equal(r.stdout, 'cleanup ran\n');
    assert.match(r.error!.traceback!, /KeyboardInterrupt/);
    assert.equal(r.sandboxReplaced, false);
    assert.throws(() => r.throwIfError(), FuelExhaustedError);
    assert.equal((await sb.run('print(state)')).stdout, 'kept\n');
  });

  it('hard stop: code that swallows the interrupt is stopped and the sandbox replaced', async () => {
    const sb = await Sandbox.create({ limits: { fuel: 5_000_000 } });
    await sb.run('state = "lost"');
    const r = await sb.run('while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass');
    assert.equal(r.error?.kind, 'fuel');
    assert.equal(r.sandboxReplaced, true);
    const after = await sb.run('print("state" in globals())');
    assert.equal(after.stdout, 'False\n');
    assert.equal(after.ok, true);
  });

  it('per-run limits override the sandbox limits', async () => {
    const sb = await Sandbox.create({ limits: { timeoutMs: 60_000 } });
    const r = await sb.run('while True: pass', { limits: { timeoutMs: 100 } });
    assert.equal(r.error?.kind, 'timeout');
    assert.ok(r.usage.wallMs >= 100 && r.usage.wallMs < 100 + 3000, `took ${r.usage.wallMs} ms`);
  });

  it('fuel is identical across repeated runs of the same program in fresh sandboxes', async () => {
    const code = 'def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nprint(fib(18), sorted([str(i) for i in range(500)])[-1])';
    const fuels = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const sb = await Sandbox.create();
      const r = await sb.run(code);
      assert.equal(r.stdout, '2584 99\n');
      fuels.add(r.usage.fuel);
      sb.dispose();
    }
    assert.equal(fuels.size, 1, `fuel differs: ${[...fuels]}`);
    assert.ok([...fuels][0] > 0);
  });

  it('rejects invalid limit values', async () => {
    await assert.rejects(Sandbox.create({ limits: { fuel: 0 } }), /limits.fuel must be/);
    await assert.rejects(Sandbox.create({ limits: { timeoutMs: -5 } }), /limits.timeoutMs must be/);
    for (const args of [['--fuel', 'lots'], ['--timeout', '5 parsecs'], ['--fuel', '-1'], ['--timeout', '']]) {
      const r = await cliAsync(['run', ...args, '-c', 'pass']);
      assert.equal(r.status, 2, `${args}: ${r.stderr}`);
    }
  });
});

describe('stack', () => {
  const deep: [string, string][] = [
    ['python recursion', 'def f(n):\n    return f(n + 1)\nf(0)'],
    ['parser on deep brackets', 'eval("[" * 200000)'],
    ['repr of a deep list', 'l = []\nfor i in range(300000):\n    l = [l]\nrepr(l)'],
    ['yield from chain', 'def g(n):\n    if n == 0:\n        yield 1\n    else:\n        yield from g(n - 1)\nlist(g(100000))'],
    ['comparing deep lists', 'a = []\nb = []\nfor i in range(300000):\n    a = [a]\n    b = [b]\na == b'],
  ];
  for (const [name, code] of deep) {
    it(`${name}: a clean error, never a host crash, and the sandbox still works`, async () => {
      const sb = await Sandbox.create({ limits: { fuel: 2_000_000_000 } });
      const r = await sb.run(code);
      assert.equal(r.ok, false);
      const clean =
        (r.error?.kind === 'python' && ['RuntimeError', 'MemoryError', 'SyntaxError'].includes(r.error.type)) ||
        r.error?.kind === 'fault' ||
        r.error?.kind === 'fuel';
      assert.ok(clean, `${name}: ${JSON.stringify(r.error)}`);
      assert.equal((await sb.run('print("alive")')).stdout, 'alive\n');
    });
  }

  it('Python recursion gives RuntimeError: maximum recursion depth exceeded', async () => {
    const sb = await Sandbox.create();
    const r = await sb.run('def f(n):\n    return f(n + 1)\nf(0)');
    assert.equal(r.error?.type, 'RuntimeError');
    assert.match(r.error!.message, /maximum recursion depth exceeded/);
    assert.equal(r.sandboxReplaced, false);
  });

  it('a wasm stack overflow is a fault (exit 8), not an escaping RangeError', async () => {
    const r = await cliAsync(['run', '--json', '-c', 'a = []\nb = []\nfor i in range(300000):\n    a = [a]\n    b = [b]\nprint(a == b)']);
    assert.equal(r.status, 8, r.stderr);
    const obj = JSON.parse(r.stdout);
    assert.equal(obj.error.kind, 'fault');
    assert.equal(obj.sandboxReplaced, true);
  });
});
