// Any WebAssembly in the fence, through the library API: each fixture in test/fixtures/wasm (named
// by what it does) ends as specified. Real modules, real host directories and symlinks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidModuleError, UsageError, WasmModule, type WasmRunResult } from '../src/index.js';
import { entryBytes } from '../src/vfs/quota.js';
import { tempDir } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'wasm');
const load = (name: string) => WasmModule.fromFile(join(FIXTURES, name));
const MiB = 1024 * 1024;

function stoppedWith(r: WasmRunResult, kind: string, exitCode: number): void {
  assert.equal(r.ok, false, `expected a ${kind} stop, got ${JSON.stringify(r)}`);
  assert.equal(r.error?.kind, kind, JSON.stringify(r.error));
  assert.equal(r.exitCode, exitCode);
}

/** A host directory with a file, a symlink to /etc and a relative symlink climbing out of it. */
function hostDir(): string {
  const dir = tempDir('wasm');
  fs.writeFileSync(join(dir, 'inside.txt'), 'inside\n');
  fs.mkdirSync(join(dir, 'sub'));
  fs.symlinkSync('/etc', join(dir, 'link-out'));
  fs.symlinkSync('../..', join(dir, 'sub', 'up'));
  fs.symlinkSync('inside.txt', join(dir, 'ok-link'));
  return dir;
}

describe('limits', () => {
  it('infinite_loop: fuel stops it (kind fuel), and the deadline when fuel is unlimited (kind timeout)', async () => {
    const m = await load('infinite_loop.wat');
    const fuel = await m.run({ limits: { fuel: 10_000_000 } });
    stoppedWith(fuel, 'fuel', 3);
    assert.ok(fuel.usage.fuel >= 10_000_000);
    const timed = await m.run({ limits: { fuel: Infinity, timeoutMs: 300 } });
    stoppedWith(timed, 'timeout', 4);
    assert.ok(timed.usage.wallMs >= 300 && timed.usage.wallMs < 10_000, `${timed.usage.wallMs} ms`);
  });

  it('fuel is deterministic: the same program and inputs use the same fuel', async () => {
    const m = await load('print_env.wasm');
    const opts = { args: ['p', 'x'], seed: 9, clock: { fixedMs: 1_000 } };
    const [a, b] = [await m.run(opts), await m.run(opts)];
    assert.equal(a.usage.fuel, b.usage.fuel);
    assert.ok(a.usage.fuel > 0);
    const loop = await load('infinite_loop.wat');
    const [x, y] = [await loop.run({ limits: { fuel: 3_000_000 } }), await loop.run({ limits: { fuel: 3_000_000 } })];
    assert.equal(x.usage.fuel, y.usage.fuel);
  });

  it('memory_grow_bomb: memory.grow past the cap returns -1 and memory stays under the cap', async () => {
    const m = await load('memory_grow_bomb.wat');
    const r = await m.run({ limits: { memoryBytes: 16 * MiB } });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.exitCode, 16, 'reached 256 pages (16 MiB), then memory.grow answered -1');
    assert.ok(r.usage.memoryPeakBytes <= 16 * MiB);
    assert.ok(r.audit.events.some((e) => e.kind === 'memory-grow'));
    const grow = await m.invokeWith({ limits: { memoryBytes: 4 * MiB } }, 'grow', 1000);
    assert.deepEqual(grow.result, [-1]);
    assert.deepEqual((await m.invokeWith({ limits: { memoryBytes: 4 * MiB } }, 'grow', 2)).result, [1]);
  });

  it('malloc_bomb (C): malloc fails under the cap, the program handles it', async () => {
    const r = await (await load('malloc_bomb.wasm')).run({ limits: { memoryBytes: 16 * MiB } });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.exitCode, 12);
    assert.match(r.stdout, /^malloc failed after 1[0-5] MiB/);
    assert.ok(r.usage.memoryPeakBytes <= 16 * MiB);
  });

  it('oversized_initial_memory: refused with kind memory before it runs', async () => {
    const m = await load('oversized_initial_memory.wat');
    const r = await m.run();
    stoppedWith(r, 'memory', 5);
    assert.match(r.error!.message, /initial memory 131072000 bytes exceeds the cap of 67108864/);
    assert.equal(r.stdout, '');
    const roomy = await m.run({ limits: { memoryBytes: 256 * MiB } });
    assert.equal(roomy.stdout, 'ran\n');
  });

  it('table_bomb: table.grow past the cap returns -1; an initial table over the cap is refused', async () => {
    const m = await load('table_bomb.wat');
    const r = await m.run({ limits: { tableElements: 20_000 } });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.exitCode, 19, 'grew to 19,010 elements, then table.grow answered -1');
    assert.ok(r.audit.events.some((e) => e.kind === 'table-grow'));
    const small = await m.run({ limits: { tableElements: 5 } });
    stoppedWith(small, 'memory', 5);
    assert.equal(small.error!.type, 'TableLimit');
  });

  it('deep_recursion: a stack overflow is kind fault, and the host carries on', async () => {
    const m = await load('deep_recursion.wat');
    const r = await m.run();
    stoppedWith(r, 'fault', 8);
    assert.match(r.error!.message, /stack/i);
    assert.equal((await (await load('add.wat')).invoke('add_i32', 2, 3)).result![0], 5);
  });

  it('recursion is metered, direct and through the table (call_indirect)', async () => {
    for (const name of ['deep_recursion.wat', 'indirect_recursion.wat']) {
      const r = await (await load(name)).run({ limits: { fuel: 5_000 } });
      stoppedWith(r, 'fuel', 3);
    }
  });

  it('output_flood: stopped at the output cap with exactly the cap kept', async () => {
    const r = await (await load('output_flood.wat')).run({ limits: { outputBytes: 4096 } });
    stoppedWith(r, 'output', 6);
    assert.equal(Buffer.byteLength(r.stdout), 4096);
  });

  it('sleep_forever: the deadline holds while it sleeps; with a fixed clock the sleep is virtual', async () => {
    const m = await load('sleep_forever.wat');
    const r = await m.run({ limits: { timeoutMs: 300 } });
    stoppedWith(r, 'timeout', 4);
    assert.ok(r.usage.wallMs < 10_000);
    const virtual = await m.run({ clock: { fixedMs: 0 }, limits: { timeoutMs: 5_000 } });
    assert.equal(virtual.ok, true);
    assert.equal(virtual.stdout, 'woke\n');
  });

  it('host_work_flood: cheap calls asking for much host work meet the deadline (checked after every WASI call); past IOV_MAX is EINVAL', async () => {
    // Checked only at fuel checkpoints, this loop ran past 40 s with a 500 ms deadline.
    const r = await (await load('host_work_flood.wat')).run({ limits: { fuel: Infinity, timeoutMs: 500 } });
    stoppedWith(r, 'timeout', 4);
    assert.ok(r.usage.wallMs < 10_000, `${r.usage.wallMs} ms`);
  });

  it('a stdin reader that never answers still meets the deadline', async () => {
    const r = await (await load('stdin_echo.wasm')).run({ stdin: () => null, limits: { timeoutMs: 300 } });
    stoppedWith(r, 'timeout', 4);
  });
});

describe('imports', () => {
  it('ungranted_import: refused before anything runs, listing every ungranted import', async () => {
    const m = await load('ungranted_import.wat');
    let calls = 0;
    const r = await m.run({ imports: { 'env.read_secret': () => ++calls } });
    stoppedWith(r, 'denied', 7);
    assert.equal(r.error!.message, 'ungranted imports: host.launch');
    assert.equal(calls, 0, 'no guest code ran');
    const none = await m.run();
    assert.equal(none.error!.message, 'ungranted imports: env.read_secret, host.launch');
    assert.deepEqual(
      none.audit.events.map((e) => e.detail),
      ['env.read_secret', 'host.launch'],
    );
  });

  it('granted host functions are called with the guest values; nothing else is reachable', async () => {
    const m = await load('ungranted_import.wat');
    const launched: unknown[] = [];
    const r = await m.run({ imports: { 'env.read_secret': () => 42, 'host.launch': (x) => void launched.push(x) } });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(launched, [42]);
    const host = await load('call_host.wat');
    const q = await host.invokeWith({ imports: { 'env.double': (x) => (x as bigint) * 2n } }, 'quadruple', 5n);
    assert.deepEqual(q.result, [20n]);
    const denied = await host.invoke('quadruple', 5n);
    stoppedWith(denied, 'denied', 7);
  });

  it("the instrumenter's own imports can be neither imported nor granted", async () => {
    const m = await WasmModule.compile('(module (import "pyfence" "fuel_exhausted" (func $f)) (func (export "_start") (call $f)))');
    const r = await m.run({ imports: { 'pyfence.fuel_exhausted': () => {} } });
    stoppedWith(r, 'denied', 7);
    assert.equal(r.error!.message, 'ungranted imports: pyfence.fuel_exhausted');
  });

  it('WASI can be turned off: then its imports are ungranted too', async () => {
    const r = await (await load('print_env.wasm')).run({ wasi: false });
    stoppedWith(r, 'denied', 7);
    assert.match(r.error!.message, /wasi_snapshot_preview1\.fd_write/);
  });

  it('a host function that throws is kind fault with its message', async () => {
    const r = await (await load('ungranted_import.wat')).run({
      imports: { 'env.read_secret': () => { throw new Error('no secrets'); }, 'host.launch': () => {} },
    });
    stoppedWith(r, 'fault', 8);
    assert.match(r.error!.message, /env\.read_secret threw: no secrets/);
  });
});

describe('plain modules: invoke', () => {
  it('passes and returns i32, i64 (BigInt), f32 and f64', async () => {
    const m = await load('add.wat');
    assert.deepEqual((await m.invoke('add_i32', 0x7fffffff, 1)).result, [-0x80000000]);
    assert.deepEqual((await m.invoke('add_i64', 2n ** 62n, 5n)).result, [2n ** 62n + 5n]);
    assert.deepEqual((await m.invoke('mul_f32', 1.5, 2)).result, [3]);
    assert.deepEqual((await m.invoke('div_f64', 1, 4)).result, [0.25]);
  });

  it('traps are kind fault with the trap message', async () => {
    const m = await load('add.wat');
    const u = await m.invoke('trap');
    stoppedWith(u, 'fault', 8);
    assert.equal(u.error!.message, 'unreachable');
    assert.match((await m.invoke('load', 70_000)).error!.message, /out of bounds/);
  });

  it('bad calls and bad modules are clear errors', async () => {
    const m = await load('add.wat');
    await assert.rejects(m.invoke('nope'), (e: Error) => e instanceof UsageError && /exports no function "nope"/.test(e.message));
    await assert.rejects(m.invoke('add_i32', 1), /takes 2 arguments, got 1/);
    await assert.rejects(m.invoke('add_i32', 'x', 1), /argument 1 must be an i32/);
    await assert.rejects(m.run(), /no _start export/);
    await assert.rejects(WasmModule.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9])), InvalidModuleError);
    await assert.rejects(WasmModule.compile('(module (func (export "f") (i32.add)))'), InvalidModuleError);
    await assert.rejects(m.run({ limits: { fuel: -1 } } as never), UsageError);
  });
});

describe('filesystem grants', () => {
  it('symlink and .. escapes from a mount (real host symlinks) never leave it', async () => {
    const dir = hostDir();
    try {
      const attempts = ['/data/link-out/passwd', '/data/../etc/passwd', '/data/sub/up/etc/passwd', '/data/sub/../../etc/passwd', '/etc/passwd', '/data/ok-link'];
      const r = await (await load('fs_probe.wasm')).run({
        args: ['fs_probe', ...attempts.flatMap((p) => ['read', p])],
        mounts: [{ host: dir, guest: '/data', mode: 'ro' }],
      });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.exitCode, 1, `only the link inside the mount opens:\n${r.stdout}`);
      assert.match(r.stdout, /^OPEN \/data\/ok-link: inside$/m);
      assert.doesNotMatch(r.stdout, /root:/);
      for (const p of attempts.slice(0, 5)) assert.match(r.stdout, new RegExp(`^DENIED ${p.replace(/\./g, '\\.')}: `, 'm'));
      assert.ok(r.audit.events.filter((e) => e.kind === 'path-escape').length >= 3, JSON.stringify(r.audit));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('directories list, the root of a mount included; links leading out show but do not open', async () => {
    const dir = hostDir();
    try {
      const r = await (await load('fs_probe.wasm')).run({
        args: ['fs_probe', 'list', '/data', 'list', '/data/sub', 'list', '/data/link-out'],
        mounts: [{ host: dir, guest: '/data' }],
      });
      assert.match(r.stdout, /^LIST \/data: \. \.\. inside\.txt link-out ok-link sub$/m);
      assert.match(r.stdout, /^LIST \/data\/sub: \. \.\. up$/m);
      assert.match(r.stdout, /^DENIED \/data\/link-out: /m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory mounted as / keeps its symlinks inside too', async () => {
    const dir = hostDir();
    try {
      const r = await (await load('fs_probe.wasm')).run({
        args: ['fs_probe', 'read', '/inside.txt', 'read', '/link-out/passwd', 'read', '/../etc/passwd'],
        mounts: [{ host: dir, guest: '/' }],
      });
      assert.equal(r.exitCode, 1, r.stdout);
      assert.match(r.stdout, /^OPEN \/inside\.txt: inside$/m);
      assert.doesNotMatch(r.stdout, /root:/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rename, link and symlink tricks stay inside the mount', async () => {
    const dir = hostDir();
    try {
      const r = await (await load('fs_tricks.wasm')).run({ mounts: [{ host: dir, guest: '/data', mode: 'rw' }] });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      for (const line of r.stdout.trim().split('\n')) {
        if (line.startsWith('read /data/inside.txt')) assert.equal(line, 'read /data/inside.txt: ok: inside');
        else assert.doesNotMatch(line, /: ok/, line);
      }
      assert.deepEqual(fs.readdirSync(dir).sort(), ['inside.txt', 'link-out', 'ok-link', 'sub']);
      assert.ok(!fs.existsSync('/etc/pyfence-made'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes to a ro mount are refused (EROFS), and allowed in a rw one', async () => {
    const dir = hostDir();
    try {
      const probe = await load('fs_probe.wasm');
      const ro = await probe.run({ args: ['p', 'write', '/data/new.txt'], mounts: [{ host: dir, guest: '/data', mode: 'ro' }] });
      assert.match(ro.stdout, /^DENIED \/data\/new\.txt: Read-only file system$/m);
      assert.ok(!fs.existsSync(join(dir, 'new.txt')));
      assert.ok(ro.audit.events.some((e) => e.kind === 'read-only'));
      const rw = await probe.run({ args: ['p', 'write', '/data/new.txt'], mounts: [{ host: dir, guest: '/data', mode: 'rw' }] });
      assert.match(rw.stdout, /^WROTE \/data\/new\.txt$/m);
      assert.equal(fs.readFileSync(join(dir, 'new.txt'), 'utf8'), 'written\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('write_past_quota: writes past the quota fail with ENOSPC and the host file stays within it', async () => {
    const dir = tempDir('wasm');
    try {
      const r = await (await load('write_past_quota.wasm')).run({
        args: ['w', '/out/big.bin'],
        mounts: [{ host: dir, guest: '/out', mode: 'rw' }],
        limits: { writeQuotaBytes: MiB },
      });
      assert.equal(r.exitCode, 1, r.stdout);
      // The file's entry costs its name too: the last whole 64 KiB chunk that fit after it.
      const chunk = 64 * 1024;
      const fits = Math.floor((MiB - entryBytes('big.bin')) / chunk) * chunk;
      assert.match(r.stdout, new RegExp(`^write failed after ${fits} bytes: No space left on device$`, 'm'));
      assert.ok(fs.statSync(join(dir, 'big.bin')).size <= MiB);
      assert.ok(r.audit.events.some((e) => e.kind === 'quota'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('entry_flood: empty directories and files in a rw preopen cost their entry and name, until ENOSPC', async () => {
    const quota = 1000;
    // e0..e6: 130 bytes each; the eighth entry would pass 1000.
    const fit = Math.floor(quota / entryBytes('e0'));
    for (const kind of ['dir', 'file']) {
      const dir = tempDir('wasm');
      try {
        const r = await (await load('entry_flood.wasm')).run({ args: ['f', kind, '/out'], mounts: [{ host: dir, guest: '/out', mode: 'rw' }], limits: { writeQuotaBytes: quota } });
        assert.equal(r.exitCode, 1, r.stdout);
        assert.equal(r.stdout, `made ${fit}: No space left on device\n`, kind);
        assert.equal(fs.readdirSync(dir).length, fit, kind);
        assert.ok(r.audit.events.some((e) => e.kind === 'quota'), kind);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('in-memory files are preopened as /, readable and writable', async () => {
    const r = await (await load('fs_probe.wasm')).run({
      args: ['p', 'read', '/in/data.txt', 'write', '/scratch.txt', 'read', '/scratch.txt'],
      files: { '/in/data.txt': 'given\n' },
    });
    assert.equal(r.stdout, 'OPEN /in/data.txt: given\nWROTE /scratch.txt\nOPEN /scratch.txt: written\n');
  });
});

describe('argv, env, clock, random', () => {
  it('in deterministic mode (seed + fixed clock) two runs print the same, and the clock starts where told', async () => {
    const m = await load('print_env.wasm');
    const opts = { args: ['prog', 'a b'], env: { LANG: 'C' }, seed: 7, clock: { fixedMs: 1_700_000_000_000 } };
    const a = await m.run(opts);
    const b = await m.run(opts);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^argv\[0\]=prog\nargv\[1\]=a b\nenv LANG=C\nrealtime_ms=1700000000\d{3}\n/);
    const other = await m.run({ ...opts, seed: 8 });
    assert.notEqual(other.stdout.match(/random=(\w+)/)![1], a.stdout.match(/random=(\w+)/)![1]);
  });

  it('out of deterministic mode: real time, fresh randomness, and only granted env', async () => {
    const m = await load('print_env.wasm');
    const a = await m.run();
    const b = await m.run();
    assert.doesNotMatch(a.stdout, /^env /m, 'no environment unless granted');
    const realtime = Number(a.stdout.match(/realtime_ms=(\d+)/)![1]);
    assert.ok(Math.abs(realtime - Date.now()) < 60_000);
    assert.notEqual(a.stdout.match(/random=(\w+)/)![1], b.stdout.match(/random=(\w+)/)![1]);
  });

  it('stdin is given as bytes or text', async () => {
    const r = await (await load('stdin_echo.wasm')).run({ stdin: 'one\ntwo\n' });
    assert.equal(r.stdout, 'ONE\nTWO\n2 lines\n');
  });
});
