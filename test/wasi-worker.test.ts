// WebAssembly runs on worker threads: the same results as inline, a caller whose event loop keeps
// turning, a watchdog for a guest the in-wasm stop cannot reach, async host functions, and a pool
// with bounded workers and queue. Real modules, real worker threads.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PoolOverloadError, UsageError, WasmModule, WasmPool, type CompileOptions, type WasmRunOptions, type WasmRunResult } from '../src/index.js';
import { checksum64 } from '../src/instrument/checksum.js';
import { clearModuleCache, watToBinary } from '../src/instrument/load.js';
import { META_SECTION } from '../src/instrument/meter.js';
import { WATCHDOG_MARGIN_MS } from '../src/pool/worker-session.js';
import { wasmName, wasmSection } from '../src/engine/wasm-binary.js';
import { tempDir } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'wasm');
const pool = new WasmPool({ size: 2 });
after(() => pool.close());
const load = (name: string, options: CompileOptions = {}) => WasmModule.fromFile(join(FIXTURES, name), options);
const onWorker = (name: string) => load(name, { pool });

/** A result without its wall time (the only part that may differ between two runs). */
function comparable(r: WasmRunResult): unknown {
  return { ...r, usage: { ...r.usage, wallMs: 0 } };
}

describe('a run in a worker', () => {
  it('gives the same result as inline for the fixtures (output, exit code, error, fuel, memory peak, audit)', async () => {
    const dir = tempDir('wasm-worker');
    fs.writeFileSync(join(dir, 'inside.txt'), 'inside\n');
    fs.symlinkSync('/etc', join(dir, 'link-out'));
    const cases: [string, WasmRunOptions][] = [
      ['hello.wasm', {}],
      ['print_env.wasm', { args: ['prog', 'a b'], env: { LANG: 'C' }, seed: 7, clock: { fixedMs: 1_700_000_000_000 } }],
      ['stdin_echo.wasm', { stdin: 'one\ntwo\n' }],
      ['infinite_loop.wat', { limits: { fuel: 10_000_000 } }],
      ['memory_grow_bomb.wat', { limits: { memoryBytes: 16 * 2 ** 20 } }],
      ['output_flood.wat', { limits: { outputBytes: 4096 } }],
      ['oversized_initial_memory.wat', {}],
      ['table_bomb.wat', {}],
      ['ungranted_import.wat', {}],
      ['sleep_forever.wat', { clock: { fixedMs: 0 } }],
      ['fs_probe.wasm', { args: ['p', 'read', '/in/data.txt', 'write', '/scratch.txt', 'read', '/scratch.txt'], files: { '/in/data.txt': 'given\n' } }],
      ['fs_probe.wasm', { args: ['p', 'read', '/data/inside.txt', 'read', '/data/link-out/passwd', 'write', '/data/new.txt'], mounts: [{ host: dir, guest: '/data', mode: 'ro' }] }],
    ];
    for (const [name, options] of cases) {
      const [inline, worker] = [await load(name), await onWorker(name)];
      assert.equal(worker.isolation, 'worker');
      const [a, b] = [await inline.run(options), await worker.run(options)];
      assert.deepEqual(comparable(b), comparable(a), name);
    }
    const add = [await load('add.wat'), await onWorker('add.wat')];
    const [x, y] = [await add[0].invoke('add_i64', 2n ** 40n, 3n), await add[1].invoke('add_i64', 2n ** 40n, 3n)];
    assert.deepEqual(y.result, [2n ** 40n + 3n]);
    assert.deepEqual(comparable(y), comparable(x));
  });

  it('a stack overflow is a fault in a worker too', async () => {
    const r = await (await onWorker('deep_recursion.wat')).run();
    assert.equal(r.error?.kind, 'fault');
    assert.match(r.error!.message, /stack/i);
  });

  it("keeps the caller's event loop turning during a long run, which the in-wasm deadline stops", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      const r = await (await onWorker('infinite_loop.wat')).run({ limits: { fuel: Infinity, timeoutMs: 1500 } });
      assert.equal(r.error?.kind, 'timeout');
      assert.doesNotMatch(r.error!.message, /watchdog/);
      // 150 intervals fit in the run; an inline run would have let none fire.
      assert.ok(ticks >= 10, `only ${ticks} timer ticks during a 1.5 s run`);
    } finally {
      clearInterval(timer);
    }
  });

  it('streams output to onStdout as it is written', async () => {
    const chunks: string[] = [];
    const r = await (await onWorker('stdin_echo.wasm')).run({ stdin: 'a\nb\n', onStdout: (b) => chunks.push(Buffer.from(b).toString()) });
    assert.equal(chunks.join(''), 'A\nB\n2 lines\n');
    assert.equal(r.stdout, 'A\nB\n2 lines\n');
  });

  it('streams a flood of one-byte writes in batches, not a message per write', async () => {
    let messages = 0;
    let streamed = 0;
    const r = await (await onWorker('byte_flood.wat')).run({ limits: { outputBytes: 65536 }, onStdout: (b) => (messages++, (streamed += b.length)) });
    assert.equal(r.error?.kind, 'output');
    assert.equal(r.stdout.length, 65536);
    assert.equal(streamed, 65536);
    assert.ok(messages < 1000, `${messages} messages for 65,536 one-byte writes`);
  });

  it('refuses what cannot cross to a worker, and reports bad calls as UsageError', async () => {
    const m = await onWorker('stdin_echo.wasm');
    await assert.rejects(m.run({ stdin: () => null }), (e) => e instanceof UsageError && /isolation 'inline'/.test(e.message));
    assert.throws(() => m.runSync(), UsageError);
    await assert.rejects((await onWorker('add.wat')).invoke('nope'), (e) => e instanceof UsageError && /no function "nope"/.test(e.message));
    await assert.rejects(m.run({ limits: { fuel: -1 } }), UsageError);
    await assert.rejects(WasmModule.compile('(module)', { isolation: 'sideways' as 'worker' }), UsageError);
  });
});

describe('the watchdog', () => {
  it('terminates a worker whose guest never reaches a fuel checkpoint (an unmetered module from a tampered disk cache), and the pool carries on', async () => {
    // The disk cache is trusted to hold metered modules; replacing an entry removes the metering, so
    // only the watchdog can stop this loop. The entry keeps the shape the loader expects.
    const cacheDir = tempDir('wasm-cache');
    const source = '(module (func (export "_start") (loop $l (br $l))))';
    clearModuleCache(); // the same loop may be cached in memory already, and would not reach the disk
    await WasmModule.compile(source, { cacheDir });
    const entry = fs.readdirSync(cacheDir).find((name) => name.endsWith('.wasm'))!;
    const unmetered = await watToBinary('(module (global (export "pyfence_fuel") (mut i32) (i32.const 0)) (func (export "_start") (loop $l (br $l))))');
    const meta = { imports: [], exports: { _start: { params: [], results: [] } }, memoryInitialPages: null, memoryMaximumPages: null, tableInitial: 0, report: { functions: 1, loopChecks: 0, entryChecks: 0, growSites: 0 } };
    // Whoever can write the directory can write the entry's check too (the check catches damage, not them).
    const replaced = Buffer.concat([unmetered, customSection(META_SECTION, JSON.stringify(meta))]);
    fs.writeFileSync(join(cacheDir, entry), replaced);
    fs.writeFileSync(join(cacheDir, `${entry}.check`), `${replaced.length} ${checksum64(replaced)}`);
    clearModuleCache();
    const tampered = await WasmModule.compile(source, { cacheDir, pool });
    const started = performance.now();
    const r = await tampered.run({ limits: { timeoutMs: 300 } });
    const took = performance.now() - started;
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.exitCode, 4);
    assert.match(r.error!.message, /terminated by the watchdog/);
    assert.ok(took >= 300 + WATCHDOG_MARGIN_MS - 50 && took < 30_000, `${took} ms`);
    const runs = await Promise.all([1, 2, 3].map(() => onWorker('hello.wasm').then((m) => m.run())));
    for (const next of runs) assert.equal(next.stdout, 'Hello, WASI!\n');
  });
});

describe('host functions from a worker', () => {
  it('may be async: the guest waits for the answer', async () => {
    const m = await onWorker('call_host.wat');
    const r = await m.invokeWith({ imports: { 'env.double': async (x) => { await new Promise((res) => setTimeout(res, 5)); return (x as bigint) * 2n; } } }, 'quadruple', 5n);
    assert.deepEqual(r.result, [20n]);
  });

  it('one that never answers is stopped at the deadline (kind timeout); one that rejects is kind fault', async () => {
    const m = await onWorker('call_host.wat');
    const never = await m.invokeWith({ imports: { 'env.double': () => new Promise<bigint>(() => {}) }, limits: { timeoutMs: 400 } }, 'quadruple', 1n);
    assert.equal(never.error?.kind, 'timeout');
    assert.match(never.error!.message, /env\.double did not answer/);
    const rejects = await m.invokeWith({ imports: { 'env.double': async () => { throw new Error('no such city'); } } }, 'quadruple', 1n);
    assert.equal(rejects.error?.kind, 'fault');
    assert.match(rejects.error!.message, /env\.double threw: no such city/);
  });

  it('one that returns something that cannot cross threads is a fault, and the caller carries on', async () => {
    const m = await onWorker('call_host.wat');
    for (const value of [{ toString: () => 'x' }, Symbol('s'), () => 1]) {
      const r = await m.invokeWith({ imports: { 'env.double': (() => value) as never } }, 'quadruple', 1n);
      assert.equal(r.error?.kind, 'fault', String(typeof value));
      assert.match(r.error!.message, /not a number or bigint/);
    }
    assert.deepEqual((await m.invokeWith({ imports: { 'env.double': (x) => (x as bigint) * 2n } }, 'quadruple', 2n)).result, [8n]);
  });

  it('inline, an async host function is a clear fault (the guest cannot wait on its own thread)', async () => {
    const r = await (await load('call_host.wat')).invokeWith({ imports: { 'env.double': async (x) => x } }, 'quadruple', 1n);
    assert.equal(r.error?.kind, 'fault');
    assert.match(r.error!.message, /async host functions need isolation 'worker'/);
  });
});

describe('WasmPool', () => {
  it('runs in parallel: two runs meet inside host calls at the same time, each with its own correct output', async () => {
    const own = new WasmPool({ size: 2 });
    try {
      const m = await load('call_host.wat', { pool: own });
      let arrived = 0;
      let release!: () => void;
      const both = new Promise<void>((res) => (release = res));
      // Answers only once both runs are inside it: with one worker at a time this would time out.
      const meet = async (x: number | bigint) => {
        if (++arrived === 2) release();
        await both;
        return (x as bigint) * 2n;
      };
      const rs = await Promise.all([1n, 2n].map((v) => m.invokeWith({ imports: { 'env.double': meet }, limits: { timeoutMs: 20_000 } }, 'quadruple', v)));
      assert.deepEqual(rs.map((r) => r.result), [[4n], [8n]]);
      const envs = await load('print_env.wasm', { pool: own });
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => envs.run({ args: ['p', `run-${i}`], seed: i })));
      many.forEach((r, i) => assert.match(r.stdout, new RegExp(`^argv\\[1\\]=run-${i}$`, 'm')));
    } finally {
      await own.close();
    }
  });

  it('bounds its queue: past maxQueue a run is refused with PoolOverloadError, the rest complete', async () => {
    const own = new WasmPool({ size: 1, maxQueue: 2 });
    try {
      const m = await load('call_host.wat', { pool: own });
      let release!: () => void;
      const gate = new Promise<void>((res) => (release = res));
      const imports = { 'env.double': async (x: number | bigint) => (await gate, (x as bigint) * 2n) };
      const first = m.invokeWith({ imports, limits: { timeoutMs: 20_000 } }, 'quadruple', 1n);
      const queued = [m.invokeWith({ imports }, 'quadruple', 2n), m.invokeWith({ imports }, 'quadruple', 3n)];
      await assert.rejects(m.invokeWith({ imports }, 'quadruple', 4n), PoolOverloadError);
      release();
      assert.deepEqual((await Promise.all([first, ...queued])).map((r) => r.result), [[4n], [8n], [12n]]);
    } finally {
      await own.close();
    }
    await assert.rejects((await load('hello.wasm', { pool: own })).run(), /closed/);
    await own.close(); // closing again is harmless
    assert.throws(() => new WasmPool({ size: 0 }), UsageError);
  });
});

/** A custom section: id 0, size, then the name and the payload. */
function customSection(name: string, payload: string): Buffer {
  return Buffer.from(wasmSection(0, [...wasmName(name), ...Buffer.from(payload)]));
}

