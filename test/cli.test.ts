import assert from 'node:assert/strict';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { CLI, cli, cliAsync, ROOT, tempDir } from './helpers.js';

const tmp = tempDir('cli');

describe('pyfence run', () => {
  it('runs the README example', () => {
    const r = cli(['run', 'examples/hello.py']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Hello, pyfence!\nMicroPython /);
  });

  it('runs -c CODE and - (stdin)', () => {
    assert.equal(cli(['run', '-c', 'print(6 * 7)']).stdout, '42\n');
    const r = cli(['run', '-'], { input: 'print("from stdin")' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'from stdin\n');
  });

  it('exits 1 on an uncaught exception with the traceback on stderr', () => {
    const file = join(tmp, 'boom.py');
    writeFileSync(file, 'print("partial")\nraise KeyError("k")\n');
    const r = cli(['run', file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'partial\n');
    assert.match(r.stderr, /Traceback \(most recent call last\):\n.*\nKeyError: k\n/);
  });

  it('--json prints exactly one result object', () => {
    const r = cli(['run', '--json', '-c', 'print("a")\nraise ValueError("v")']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, '');
    const obj = JSON.parse(r.stdout);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.equal(obj.ok, false);
    assert.equal(obj.stdout, 'a\n');
    assert.deepEqual([obj.error.kind, obj.error.type, obj.error.message], ['python', 'ValueError', 'v']);
    assert.equal(typeof obj.usage.fuel, 'number');
    assert.equal(typeof obj.usage.memoryPeakBytes, 'number');
    assert.equal(typeof obj.usage.wallMs, 'number');
    const ok = JSON.parse(cli(['run', '--json', '-c', 'print(1)']).stdout);
    assert.deepEqual([ok.ok, ok.stdout, ok.error], [true, '1\n', null]);
  });

  it('exits 6 at the output cap with the output before it kept', () => {
    const r = cli(['run', '--max-output', '1KiB', '-c', 'i = 0\nwhile True:\n    print(i)\n    i += 1']);
    assert.equal(r.status, 6);
    assert.equal(r.stdout.length, 1024);
    assert.ok(r.stdout.startsWith('0\n1\n2\n'));
    assert.match(r.stderr, /output limit/);
    const j = cli(['run', '--json', '--max-output', '64B', '-c', 'while True: print("x" * 10)']);
    assert.equal(j.status, 6);
    const obj = JSON.parse(j.stdout);
    assert.equal(obj.error.kind, 'output');
    assert.equal(obj.stdout.length, 64);
  });

  it('exits 5 when memory runs out under --memory', () => {
    const r = cli(['run', '--json', '--memory', '8MiB', '-c', 'x = []\nwhile True:\n    x.append(bytearray(2**20))']);
    assert.equal(r.status, 5);
    assert.equal(JSON.parse(r.stdout).error.kind, 'memory');
  });

  it('exits 2 on usage errors with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['run', '--bogus', 'x.py'], /unknown option '--bogus'/],
      [['run', join(tmp, 'missing.py')], /cannot read .*missing\.py: ENOENT/],
      [['run', '--memory', '12XB', '-c', '1'], /invalid size "12XB"/],
      [['run', '--memory', '1KiB', '-c', '1'], /memoryBytes must be an integer from/],
      [['run'], /missing program/],
      [['run', '-c', '1', 'file.py'], /either FILE or -c CODE/],
      [['frobnicate'], /unknown command/],
      [[], /Usage: pyfence/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  it('reports an unreadable file as a usage error', (t) => {
    // Root reads any file through CAP_DAC_OVERRIDE: as root the CLI runs without that capability (and
    // without DAC_READ_SEARCH), still as root, so it reads the clone wherever it is (a 0700 directory
    // too) but not a file of mode 000. Switching to another user would lose the clone instead.
    const root = process.getuid?.() === 0;
    const dropCaps = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', process.execPath];
    if (root && spawnSync(dropCaps[0], [...dropCaps.slice(1), '-e', '0']).status !== 0) {
      return t.skip('running as root and setpriv cannot drop CAP_DAC_OVERRIDE here: root reads any file');
    }
    const asUser = root ? dropCaps : [process.execPath];
    const dir = tempDir('cli-perm');
    const readable = join(dir, 'open.py');
    const secret = join(dir, 'secret.py');
    writeFileSync(readable, 'print(1)');
    writeFileSync(secret, 'print(1)');
    chmodSync(secret, 0o000);
    const run = (file: string) =>
      spawnSync(asUser[0], [...asUser.slice(1), CLI, 'run', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const ok = run(readable);
    assert.equal(ok.status, 0, ok.stderr); // the same process can run a readable file
    assert.equal(ok.stdout, '1\n');
    const r = run(secret);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot read .*secret\.py: EACCES/);
  });

  it('--help documents commands, options and every exit code', () => {
    const r = cli(['run', '--help']);
    assert.equal(r.status, 0);
    for (const text of ['--json', '--memory', '--max-output', '-c, --code', 'uncaught Python exception', 'sandbox fault']) {
      assert.ok(r.stdout.includes(text), text);
    }
    for (let code = 0; code <= 8; code++) assert.match(r.stdout, new RegExp(`^  ${code}  `, 'm'));
  });
});

describe('pyfence run: grants', () => {
  it('passes arguments, environment, seed and a fixed clock', () => {
    const program = 'import sys, os, random, time\nprint(sys.argv[1:], os.getenv("TOKEN"), os.getenv("HOME"), random.getrandbits(16), time.time())';
    const file = join(tmp, "grants.py");
    writeFileSync(file, program);
    const a = cli(['run', '--env', 'TOKEN=t=1', '--seed', '9', '--fixed-clock', '5000', file, 'x', '--flag']);
    const b = cli(['run', '--env', 'TOKEN=t=1', '--seed', '9', '--fixed-clock', '5000', file, 'x', '--flag']);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /^\['x', '--flag'\] t=1 None \d+ 5\.0\d*\n$/);
    assert.equal(a.stdout, b.stdout);
    for (const bad of [['--seed', '-1'], ['--seed', 'x'], ['--env', 'NOEQUALS'], ['--fixed-clock', 'soon']]) {
      const r = cli(['run', ...bad, '-c', 'print(1)']);
      assert.equal(r.status, 2, bad.join(' '));
    }
  });

  it('--allow-net lets requests reach only the named host and port', async () => {
    const server = createServer((_req, res) => res.end('{"ok": true}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const code = `import requests\nprint(requests.get("http://127.0.0.1:${port}/").json())\nrequests.get("http://127.0.0.1:${port + 1}/")`;
      const r = await cliAsync(['run', '--json', '--allow-net', `127.0.0.1:${port}`, '-c', code]);
      assert.equal(r.status, 7, r.stderr);
      const result = JSON.parse(r.stdout);
      assert.equal(result.stdout, "{'ok': True}\n");
      assert.equal(result.error.kind, 'denied');
      const none = await cliAsync(['run', '-c', 'import requests']);
      assert.equal(none.status, 7);
      assert.match(none.stderr, /network access is not granted/);
      assert.equal((await cliAsync(['run', '--allow-net', 'http://x', '-c', '1'])).status, 2);
    } finally {
      server.close();
    }
  });
});

describe('pyfence run: output to a closed pipe', () => {
  it('stops quietly when the reader goes away (pyfence run ... | head)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'run', '-c', 'for i in range(10**6): print(i)'], {
      cwd: ROOT,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
    child.stdout.destroy(); // as `head` does after its lines
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(kill);
    assert.match(first, /^0/);
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /EPIPE|Error/);
  });
});
