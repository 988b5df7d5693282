// `pyfence wasm`, as scripts use it: each fixture through the CLI, its exit status and output.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, cliAsync, ROOT, tempDir } from './helpers.js';

const FIXTURES = 'test/fixtures/wasm';
const fx = (name: string) => join(FIXTURES, name);
// Instrumented modules are shared by the child processes through a disk cache of this run.
const cache = tempDir('wasm-cache');
process.env.PYFENCE_WASM_CACHE = cache;
const wasm = (args: string[], opts: { input?: string } = {}) => cliAsync(['wasm', ...args], { timeoutMs: 90_000, ...opts });

const dirs: string[] = [];
function hostDir(): string {
  const dir = tempDir('wasm-cli');
  fs.writeFileSync(join(dir, 'inside.txt'), 'inside\n');
  fs.symlinkSync('/etc', join(dir, 'link-out'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of [...dirs, cache]) fs.rmSync(d, { recursive: true, force: true });
});

describe('pyfence wasm: stops and their exit codes', { concurrency: 3 }, () => {
  it('infinite_loop: 3 on fuel, 4 on timeout, one line on stderr', async () => {
    const fuel = await wasm(['--fuel', '1e7', fx('infinite_loop.wat')]);
    assert.equal(fuel.status, 3);
    assert.match(fuel.stderr, /^pyfence: fuel: fuel exhausted \(budget 10000000\)\n$/);
    const timeout = await wasm(['--timeout', '300ms', fx('infinite_loop.wat')]);
    assert.equal(timeout.status, 4);
    assert.match(timeout.stderr, /^pyfence: timeout: /);
  });

  it('memory_grow_bomb and malloc_bomb: growth refused under --memory, the program exits with its own code', async () => {
    const grow = await wasm(['--memory', '16MiB', '--json', fx('memory_grow_bomb.wat')]);
    assert.equal(grow.status, 16);
    const obj = JSON.parse(grow.stdout);
    assert.equal(obj.ok, true);
    assert.equal(obj.exitCode, 16);
    assert.ok(obj.usage.memoryPeakBytes <= 16 * 2 ** 20);
    assert.equal(obj.audit.events[0].kind, 'memory-grow');
    const malloc = await wasm(['--memory', '16MiB', fx('malloc_bomb.wasm')]);
    assert.equal(malloc.status, 12);
    assert.match(malloc.stdout, /^malloc failed after \d+ MiB/);
  });

  it('oversized_initial_memory: 5 before it runs; runs under a larger --memory', async () => {
    const refused = await wasm([fx('oversized_initial_memory.wat')]);
    assert.equal(refused.status, 5);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^pyfence: memory: initial memory/);
    const roomy = await wasm(['--memory', '256MiB', fx('oversized_initial_memory.wat')]);
    assert.equal(roomy.status, 0);
    assert.equal(roomy.stdout, 'ran\n');
  });

  it('table_bomb: table.grow refused at the default cap; deep_recursion: 8', async () => {
    const table = await wasm([fx('table_bomb.wat')]);
    assert.equal(table.status, 99, table.stderr); // 10 + 99 * 1000 elements: the next grow passes 100,000
    const deep = await wasm([fx('deep_recursion.wat')]);
    assert.equal(deep.status, 8);
    assert.match(deep.stderr, /^pyfence: fault: stack overflow/);
  });

  it('output_flood: 6 with exactly --max-output bytes written', async () => {
    const r = await wasm(['--max-output', '4KiB', fx('output_flood.wat')]);
    assert.equal(r.status, 6);
    assert.equal(Buffer.byteLength(r.stdout), 4096);
  });

  it('sleep_forever: 4 at the deadline; with --fixed-clock the sleep is virtual', async () => {
    const r = await wasm(['--timeout', '300ms', fx('sleep_forever.wat')]);
    assert.equal(r.status, 4);
    const virtual = await wasm(['--fixed-clock', fx('sleep_forever.wat')]);
    assert.equal(virtual.status, 0, virtual.stderr);
    assert.equal(virtual.stdout, 'woke\n');
  });

  it('a guest blocked reading a stdin that never ends still stops at the deadline, and the CLI exits', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'wasm', '--timeout', '1s', fx('stdin_echo.wasm')], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'], // stdin stays open and empty
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    child.stdin.destroy();
    assert.equal(status, 4, stderr);
    assert.match(stderr, /^pyfence: timeout: /);
  });
});

describe('pyfence wasm: grants', { concurrency: 3 }, () => {
  it('ungranted_import: 7 listing every ungranted import; --allow-import grants by name', async () => {
    const none = await wasm([fx('ungranted_import.wat')]);
    assert.equal(none.status, 7);
    assert.equal(none.stderr, 'pyfence: denied: ungranted imports: env.read_secret, host.launch\n');
    const one = await wasm(['--allow-import', 'env.read_secret', fx('ungranted_import.wat')]);
    assert.equal(one.status, 7);
    assert.match(one.stderr, /ungranted imports: host\.launch\n$/);
    const both = await wasm(['--allow-import', 'env.read_secret', '--allow-import', 'host.launch', '--json', fx('ungranted_import.wat')]);
    assert.equal(both.status, 0);
    assert.deepEqual(
      JSON.parse(both.stdout).audit.events.map((e: { detail: string }) => e.detail),
      ['env.read_secret (stub)', 'host.launch (stub)'],
    );
  });

  it('symlink and .. escapes from --mount stay inside; ro mounts refuse writes', async () => {
    const dir = hostDir();
    const r = await wasm([
      '--mount', `${dir}:/data`,
      fx('fs_probe.wasm'),
      'read', '/data/inside.txt', 'read', '/data/link-out/passwd', 'read', '/data/../etc/passwd', 'write', '/data/new.txt',
    ]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^OPEN \/data\/inside\.txt: inside$/m);
    assert.match(r.stdout, /^DENIED \/data\/link-out\/passwd: /m);
    assert.match(r.stdout, /^DENIED \/data\/\.\.\/etc\/passwd: /m);
    assert.match(r.stdout, /^DENIED \/data\/new\.txt: Read-only file system$/m);
    assert.doesNotMatch(r.stdout, /root:/);
    assert.ok(!fs.existsSync(join(dir, 'new.txt')));
    const root = await wasm(['--mount', `${dir}:/:rw`, fx('fs_probe.wasm'), 'read', '/link-out/passwd', 'write', '/new.txt']);
    assert.equal(root.status, 1, root.stdout);
    assert.match(root.stdout, /^DENIED \/link-out\/passwd: /m);
    assert.equal(fs.readFileSync(join(dir, 'new.txt'), 'utf8'), 'written\n');
  });

  it('write_past_quota: --write-quota gives ENOSPC', async () => {
    const dir = hostDir();
    const r = await wasm(['--mount', `${dir}:/out:rw`, '--write-quota', '1MiB', fx('write_past_quota.wasm'), '/out/big.bin']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /No space left on device/);
    assert.ok(fs.statSync(join(dir, 'big.bin')).size <= 2 ** 20);
  });

  it('argv/env/clock/random: flags after FILE are the program\'s; --seed with --fixed-clock repeats exactly', async () => {
    const args = ['--env', 'K=V', '--seed', '5', '--fixed-clock', '5000', fx('print_env.wasm'), '--fuel', 'x'];
    const [a, b] = await Promise.all([wasm(args), wasm(args)]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^argv\[0\]=print_env\.wasm\nargv\[1\]=--fuel\nargv\[2\]=x\nenv K=V\nrealtime_ms=5000\n/);
    const [c, d] = await Promise.all([wasm([fx('print_env.wasm')]), wasm([fx('print_env.wasm')])]);
    assert.notEqual(c.stdout.match(/random=\w+/)![0], d.stdout.match(/random=\w+/)![0]);
  });

  it('stdin streams to the program', async () => {
    const r = await wasm([fx('stdin_echo.wasm')], { input: 'a\nb\n' });
    assert.equal(r.stdout, 'A\nB\n2 lines\n');
  });

  it('stdin from /dev/null or a file ends where they end (a socket cannot read them)', () => {
    const dir = tempDir('wasm-stdin');
    fs.writeFileSync(join(dir, 'in.txt'), 'x\ny\nz\n');
    for (const [stdin, expected] of [['/dev/null', '0 lines\n'], [join(dir, 'in.txt'), 'X\nY\nZ\n3 lines\n']] as const) {
      const fd = fs.openSync(stdin, 'r');
      try {
        // The deadline is far past what the run takes: reaching it would be the failure.
        const r = spawnSync(process.execPath, [CLI, 'wasm', '--timeout', '30s', fx('stdin_echo.wasm')], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 0, `${stdin}: ${r.stderr}`);
        assert.equal(r.stdout, expected, stdin);
      } finally {
        fs.closeSync(fd);
      }
    }
  });
});

describe('pyfence wasm: --invoke, --json and usage errors', { concurrency: 3 }, () => {
  it('--invoke prints results one per line; --json has result with i64 as a string', async () => {
    const r = await wasm(['--invoke', 'add_i64', fx('add.wat'), '4611686018427387904', '5']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '4611686018427387909\n');
    const j = await wasm(['--invoke', 'add_i64', '--json', fx('add.wat'), '1', '2']);
    const obj = JSON.parse(j.stdout);
    assert.deepEqual(Object.keys(obj), ['ok', 'exitCode', 'stdout', 'stderr', 'error', 'usage', 'audit', 'result', 'stop']);
    assert.equal(obj.stop, null);
    assert.deepEqual(Object.keys(obj.usage), ['fuel', 'memoryPeakBytes', 'wallMs']);
    assert.deepEqual(obj.result, ['3']);
    const trap = await wasm(['--invoke', 'trap', '--json', fx('add.wat')]);
    assert.equal(trap.status, 8);
    assert.deepEqual(JSON.parse(trap.stdout).error, { kind: 'fault', type: 'Trap', message: 'unreachable' });
    assert.equal(JSON.parse(trap.stdout).stop, 'fault');
  });

  it('exit 2 for a missing file, an invalid module, a bad flag value or a bad argument', async () => {
    const results = await Promise.all([
      wasm(['nope.wasm']),
      wasm([fx('build.sh')]),
      wasm(['--memory', 'lots', fx('add.wat')]),
      wasm(['--invoke', 'add_i32', fx('add.wat'), 'x', '1']),
      wasm(['--invoke', 'missing', fx('add.wat')]),
    ]);
    for (const r of results) {
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^pyfence: /);
    }
  });
});
