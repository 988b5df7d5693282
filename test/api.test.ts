// The run API as Node users expect it: data in (inputs), a value out, file names and frames in
// errors, cancellation with AbortSignal, `using`, and worker isolation where inline would deadlock.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Pool, Sandbox, Tuple, UsageError, setModuleSource, type HostValue } from '../src/index.js';
import { parseDuration, parseSize } from '../src/cli/units.js';
import { cli, ROOT } from './helpers.js';

describe('inputs and the value of the last expression', () => {
  it('sets inputs as globals, as data, and returns the last expression as data', async () => {
    using sb = await Sandbox.create();
    const inputs = { rows: [{ n: 1 }, { n: 2 }], label: 'x"); import os; ("', big: 2n ** 70n, pair: Tuple.of<HostValue>(1, 'a'), raw: new Uint8Array([0, 255]) };
    const r = await sb.run('total = sum(r["n"] for r in rows)\n(total, label, big + 1, type(pair).__name__, raw[1])', { inputs });
    assert.equal(r.ok, true, r.error?.traceback ?? '');
    assert.deepEqual([...(r.value as HostValue[])], [3, inputs.label, 2n ** 70n + 1n, 'tuple', 255]);
    assert.ok(r.value instanceof Tuple);
    // Inputs are copies: the guest's changes do not reach the host's objects, and persist as globals.
    await sb.run('rows.append(9)');
    assert.equal(inputs.rows.length, 2);
    assert.equal((await sb.run('len(rows)')).value, 3);
  });

  it('has no value for statements, None or a trailing comment, and a value after blank lines', async () => {
    using sb = await Sandbox.create();
    assert.equal((await sb.run('x = 1')).value, undefined);
    assert.equal((await sb.run('print("hi")')).value, undefined); // None, as the REPL shows nothing
    assert.equal((await sb.run('for i in range(3):\n    i')).value, undefined);
    assert.equal((await sb.run('x * 2\n\n# done\n')).value, 2);
    assert.equal((await sb.run('x = 5\nx * (\n  3)')).value, 15);
    assert.deepEqual((await sb.run('{"a": [1, 2.5, None, True]}')).value, { a: [1, 2.5, null, true] });
    // Plain JSON lists, and the tagged forms where JSON has none (inf, big ints, tuples).
    assert.deepEqual((await sb.run('[1, [2, "x"], None, 2.5]')).value, [1, [2, 'x'], null, 2.5]);
    assert.deepEqual((await sb.run('[float("inf"), 2**60, (1,)]')).value, [Infinity, 2n ** 60n, Tuple.of<HostValue>(1)]);
  });

  it('costs nothing extra for programs ending in an assignment', async () => {
    // The value machinery (a wrapper compiling the tail again) is paid only where a value may come.
    using sb = await Sandbox.create();
    const fuel = async (code: string) => (await sb.run(code)).usage.fuel;
    const plain = await fuel('print(1 + 1)');
    for (const code of ['x = 1 + 1', 'd = {"k": 0}\nd["k"] += 1', 'a: int = 2', 's = "a == b"']) {
      assert.ok((await fuel(code)) < plain * 2, `${code}: ${await fuel(code)} fuel vs ${plain}`);
    }
    assert.equal((await sb.run('x = 2\nx == 2')).value, true);
    assert.equal((await sb.run('f = lambda a=1: a\nf(a=3)')).value, 3);
  });

  it('reports a value that is not data in valueError, and the run still succeeds', async () => {
    using sb = await Sandbox.create();
    const fn = await sb.run('def f(): pass\nf');
    assert.equal(fn.ok, true);
    assert.equal(fn.value, undefined);
    assert.match(fn.valueError ?? '', /cannot leave the sandbox: TypeError: cannot pass 'function'/);
    const deep = await sb.run('l = []\nfor i in range(300): l = [l]\nl');
    assert.equal(deep.ok, true);
    assert.match(deep.valueError ?? '', /cannot leave the sandbox/);
    // A failed run has neither.
    const failed = await sb.run('1 / 0');
    assert.equal(failed.ok, false);
    assert.deepEqual([failed.value, failed.valueError], [undefined, null]);
  });

  it('refuses inputs that are not data or not valid names, before running anything', async () => {
    using sb = await Sandbox.create();
    await assert.rejects(sb.run('1', { inputs: { f: (() => 1) as never } }), /inputs\.f: cannot pass a function/);
    await assert.rejects(sb.run('1', { inputs: { __pyfence__: 1 } }), UsageError);
    await assert.rejects(sb.run('1', { inputs: { class: 1 } }), /not a valid global name/);
    await assert.rejects(sb.run('1', { inputs: [1] as never }), /inputs must be a plain object/);
    await assert.rejects(sb.run('1', { filename: 'a\nb' }), /filename/);
  });

  it('works the same in worker sandboxes and pools', async () => {
    await using worker = await Sandbox.create({ isolation: 'worker' });
    const r = await worker.run('[x * 2 for x in xs]', { inputs: { xs: [1, 2] } });
    assert.deepEqual(r.value, [2, 4]);
    const t = await worker.run('(1, b"z")');
    assert.ok(t.value instanceof Tuple); // decoded on this side of the thread boundary
    await using pool = new Pool({ size: 1, isolation: 'worker' });
    assert.equal((await pool.run('n + 1', { inputs: { n: 41 } })).value, 42);
    const inline = new Pool({ size: 1 });
    assert.equal((await inline.run('n + 1', { inputs: { n: 1 } })).value, 2);
    await inline.close();
  });
});

describe('file names and frames', () => {
  it('names the file in tracebacks and gives the frames as data', async () => {
    using sb = await Sandbox.create();
    const r = await sb.run('def f(n):\n    return 1 / n\n\nf(0)', { filename: 'calc.py' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.traceback, 'Traceback (most recent call last):\n  File "calc.py", line 4, in <module>\n  File "calc.py", line 2, in f\nZeroDivisionError: divide by zero\n');
    assert.deepEqual(r.error.frames, [
      { filename: 'calc.py', line: 4, name: '<module>' },
      { filename: 'calc.py', line: 2, name: 'f' },
    ]);
    const syntax = await sb.run('x = 1\ny = (', { filename: 'bad.py' });
    assert.deepEqual(syntax.error?.frames, [{ filename: 'bad.py', line: 3, name: null }]);
    const awaiting = await sb.run('import asyncio\nawait asyncio.sleep(0)\nraise KeyError("k")', { filename: 'a.py' });
    assert.deepEqual(awaiting.error?.frames, [{ filename: 'a.py', line: 3, name: '<module>' }]);
    // Without a file name, as before: "<stdin>".
    assert.deepEqual((await sb.run('1/0')).error?.frames, [{ filename: '<stdin>', line: 1, name: '<module>' }]);
  });

  it('the CLI passes the program file name', () => {
    const r = cli(['run', 'examples/hello.py', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const bad = cli(['run', '-c', 'x = 1\nraise ValueError(x)']);
    assert.match(bad.stderr, /File "<string>", line 2, in <module>\nValueError: 1\n/);
  });
});

describe('cancellation', () => {
  it('an aborted signal never starts the run (inline and worker)', async () => {
    for (const isolation of ['inline', 'worker'] as const) {
      await using sb = await Sandbox.create({ isolation });
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(sb.run('started = 1', { signal: controller.signal }), { name: 'AbortError' });
      assert.equal((await sb.run('"started" in globals()')).value, false, isolation);
    }
  });

  it('aborting a worker run interrupts it, even code that catches KeyboardInterrupt once', async () => {
    await using sb = await Sandbox.create({ isolation: 'worker', limits: { timeoutMs: 60_000 } });
    const controller = new AbortController();
    const code = 'n = 0\ntry:\n    print("go")\n    while True: n += 1\nexcept KeyboardInterrupt:\n    print("caught once")\n    while True: n += 1';
    const run = sb.run(code, { signal: controller.signal, onStdout: (t) => t.includes('go') && controller.abort(new Error('stop')) });
    await assert.rejects(run, /stop/);
    // The session goes on, with its state.
    assert.equal((await sb.run('n > 0')).value, true);
  });

  it('a pool run leaves the queue on abort, and a running one is interrupted', async () => {
    await using pool = new Pool({ size: 1, isolation: 'worker' });
    await pool.ready();
    const first = new AbortController();
    const running = pool.run('while True: pass', { signal: first.signal });
    const second = new AbortController();
    const queued = pool.run('print("never")', { signal: second.signal });
    second.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    first.abort();
    await assert.rejects(running, { name: 'AbortError' });
    assert.equal((await pool.run('6 * 7')).value, 42);
  });
});

describe('event loop and isolation', () => {
  it('a worker run leaves the event loop free; an inline run holds it', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await using worker = await Sandbox.create({ isolation: 'worker' });
      ticks = 0;
      await worker.run('import time\ntime.sleep(0.3)');
      assert.ok(ticks > 0, 'no timer ran during a worker run');
      using inline = await Sandbox.create();
      ticks = 0;
      await inline.run('import time\ntime.sleep(0.1)');
      assert.equal(ticks, 0);
    } finally {
      clearInterval(timer);
    }
  });

  it('a network grant gets a worker: a server in this thread answers (inline would wait until the deadline)', async () => {
    const server = createServer((_req, res) => res.end('{"v": 1}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      await using sb = await Sandbox.create({ net: { allow: [`127.0.0.1:${port}`] }, limits: { timeoutMs: 20_000 } });
      const r = await sb.run(`import requests\nrequests.get("http://127.0.0.1:${port}/").json()`);
      assert.deepEqual(r.value, { v: 1 });
      assert.ok(r.usage.wallMs < 10_000, `took ${r.usage.wallMs} ms`);
    } finally {
      server.close();
    }
  });

  it('a plain function returning a Promise is awaited in a worker sandbox', async () => {
    const later = (x: HostValue) => new Promise<HostValue>((resolve) => setImmediate(() => resolve([x, 'later'])));
    await using sb = await Sandbox.create({ isolation: 'worker', modules: { m: { later } } });
    assert.deepEqual((await sb.run('import m\nm.later(1)')).value, [1, 'later']);
  });
});

describe('package surface', () => {
  it('loads the module from bytes given by the embedder, and refuses foreign bytes', () => {
    const wasm = readFileSync(`${ROOT}/wasm/pyfence.wasm`);
    const manifest = readFileSync(`${ROOT}/wasm/manifest.json`, 'utf8');
    setModuleSource(wasm, manifest); // the same module this process loaded: accepted
    const altered = new Uint8Array(wasm);
    altered[altered.length - 1] ^= 1;
    assert.throws(() => setModuleSource(altered, manifest), /does not describe these bytes/);
    // A module its manifest describes, but not built by pyfence's build: no import table to apply.
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    const emptyManifest = { variants: { metered: { sha256: createHash('sha256').update(empty).digest('hex') } } };
    assert.throws(() => setModuleSource(empty, emptyManifest), /has no pyfence\.module-table section/);
  });

  it('parses sizes in decimal and binary units, and refuses ambiguous ones and bare durations', () => {
    assert.equal(parseSize('1MB'), 1_000_000);
    assert.equal(parseSize('1MiB'), 1_048_576);
    assert.equal(parseSize('2kb'), 2000);
    assert.equal(parseSize('512'), 512);
    assert.throws(() => parseSize('16m'), /ambiguous: say MiB or MB/);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.throws(() => parseDuration('2'), /needs a unit: 2s or 2ms/);
    const r = cli(['run', '--timeout', '2', '-c', 'pass']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs a unit/);
    assert.equal(cli(['run', '--memory', '16MB', '-c', 'pass']).status, 0);
  });

  it('prints its version', () => {
    const r = cli(['--version']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')).version);
  });
});
