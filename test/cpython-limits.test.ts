// The attack corpus under engine 'cpython': every limit and grant holds, and every attack ends as a
// result (never a host crash); the sandbox keeps working afterwards. Fuel, time, memory and output
// limits are the behaviour suite's, for every engine (test/engine-limits.test.ts,
// engine-output.test.ts); deep C recursion is test/cpython-deep.test.ts.
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sandbox, UsageError } from '../src/index.js';
import { tempDir } from './helpers.js';

describe('CPython engine: limits', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython' });
  });
  after(() => sb.dispose());

  const alive = async () => {
    const r = await sb.run('print(6 * 7)');
    assert.equal(r.stdout, '42\n', JSON.stringify(r.error));
  };

  it('Python recursion is a RecursionError', async () => {
    const r = await sb.run('def f(n):\n    return f(n + 1)\nf(0)');
    assert.equal(r.error?.type, 'RecursionError');
    assert.equal(r.error?.kind, 'python');
    await alive();
  });
});

describe('CPython engine: capabilities', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython', env: { API_KEY: 'k' }, argv: ['tool.py', '--verbose'] });
  });
  after(() => sb.dispose());

  for (const mod of ['js', 'ctypes', '_pyodide', 'pyodide.ffi', 'pyodide', '_pyodide_core', '_ctypes']) {
    it(`import ${mod} is denied`, async () => {
      const r = await sb.run(`import ${mod}`);
      assert.equal(r.error?.kind, 'denied', JSON.stringify(r.error));
      assert.match(r.error!.message, /not allowed in this sandbox/);
    });
  }

  it('os.system fails cleanly; sockets are not available', async () => {
    const r = await sb.run('import os\nprint(os.system("cat /etc/passwd"))');
    assert.equal(r.stdout, '-1\n');
    const s = await sb.run('import socket\ntry:\n    socket.socket()\nexcept OSError as e:\n    print("OSError")');
    assert.equal(s.stdout, 'OSError\n', JSON.stringify(s.error));
  });

  it('subprocess cannot start anything (a Python error or a denied stop, never a process)', async () => {
    const r = await sb.run('import subprocess\nsubprocess.run(["sh", "-c", "echo pwned"])');
    assert.equal(r.ok, false);
    assert.ok(['python', 'denied'].includes(r.error!.kind), JSON.stringify(r.error));
    assert.doesNotMatch(r.stdout, /pwned/);
    await sb.run('print(1)');
  });

  it('files outside the grants do not exist', async () => {
    for (const path of ['/etc/passwd', '/proc/self/environ', '../../../../etc/hostname']) {
      const r = await sb.run(`open(${JSON.stringify(path)}).read()`);
      assert.equal(r.error?.type, 'FileNotFoundError', `${path}: ${JSON.stringify(r.error)}`);
    }
    const listing = await sb.run('import os\nprint(sorted(os.listdir("/")))');
    assert.doesNotMatch(listing.stdout, /etc|proc|root|home/);
  });

  it('the standard library zip is read-only', async () => {
    const r = await sb.run('open("/lib/python314.zip", "wb").write(b"x")');
    assert.equal(r.ok, false);
    assert.match(r.error!.type, /OSError|PermissionError/);
    assert.equal((await sb.run('import json\nprint(json.dumps([1]))')).stdout, '[1]\n');
  });

  it('tracebacks are CPython\'s, with the program\'s file name', async () => {
    const r = await sb.run('def f():\n    raise ValueError("boom")\nf()');
    assert.equal(r.error?.type, 'ValueError');
    assert.equal(r.error?.message, 'boom');
    assert.match(r.error!.traceback!, /File "tool.py", line 3, in <module>\n    f\(\)/);
    assert.match(r.error!.traceback!, /File "tool.py", line 2, in f\n    raise ValueError\("boom"\)/);
  });

  it('sys.exit(0) succeeds, sys.exit(3) is a SystemExit error; globals persist between runs', async () => {
    assert.equal((await sb.run('import sys\nsys.exit(0)')).ok, true);
    assert.equal((await sb.run('import sys\nsys.exit(3)')).error?.type, 'SystemExit');
    await sb.run('counter = 41');
    assert.equal((await sb.run('counter += 1\nprint(counter)')).stdout, '42\n');
  });
});

describe('CPython engine: files and mounts', () => {
  it('in-memory files and a read-only mount go through the same VFS', async () => {
    const dir = tempDir('cpy');
    writeFileSync(join(dir, 'data.csv'), 'a,b\n1,2\n');
    symlinkSync('/etc', join(dir, 'escape'));
    const sb = await Sandbox.create({
      engine: 'cpython',
      files: { '/input/hello.txt': 'hi there' },
      mounts: [{ host: dir, guest: '/data', mode: 'ro' }],
    });
    try {
      const r = await sb.run(
        [
          'import csv, os',
          'print(open("/input/hello.txt").read())',
          'print(list(csv.reader(open("/data/data.csv"))))',
          'with open("/input/out.txt", "w") as f:',
          '    f.write("result")',
          'try:',
          '    open("/data/new.txt", "w")',
          'except OSError as e:',
          '    print("ro:", type(e).__name__)',
          'try:',
          '    open("/data/escape/passwd")',
          'except OSError as e:',
          '    print("escape:", type(e).__name__)',
        ].join('\n'),
      );
      assert.equal(r.stdout, "hi there\n[['a', 'b'], ['1', '2']]\nro: PermissionError\nescape: PermissionError\n", JSON.stringify(r.error));
      assert.equal(new TextDecoder().decode(await sb.fs.readFile('/input/out.txt')), 'result');
    } finally {
      sb.dispose();
    }
  });
});

describe('CPython engine: determinism and options', () => {
  it('a seed and a fixed clock give the same output in two sandboxes', async () => {
    const code = 'import random, time, datetime\nprint(random.random(), random.randint(1, 10**9), time.time(), datetime.datetime.now().year)';
    const outs = [];
    for (let i = 0; i < 2; i++) {
      const sb = await Sandbox.create({ engine: 'cpython', seed: 7, clock: { fixedMs: 1_700_000_000_000 } });
      outs.push((await sb.run(code)).stdout);
      sb.dispose();
    }
    assert.equal(outs[0], outs[1]);
    assert.match(outs[0], / 1700000000\.\d+ 2023\n$/);
    const free = await Sandbox.create({ engine: 'cpython' });
    const other = await Sandbox.create({ engine: 'cpython' });
    const a = (await free.run('import random\nprint(random.random())')).stdout;
    const b = (await other.run('import random\nprint(random.random())')).stdout;
    free.dispose();
    other.dispose();
    assert.notEqual(a, b, 'sandboxes without a seed draw different random numbers');
  });

  it('options the engine cannot honour are refused clearly', async () => {
    const refused: [object, RegExp][] = [
      [{ limits: { memoryBytes: 16 * 2 ** 20 } }, /memoryBytes must be at least \d+ with engine 'cpython'/],
    ];
    for (const [options, message] of refused) {
      await assert.rejects(Sandbox.create({ engine: 'cpython', ...options }), (e: Error) => e instanceof UsageError && message.test(e.message));
    }
    await assert.rejects(Sandbox.create({ engine: 'nope' as 'cpython' }), UsageError);
    const sb = await Sandbox.create({ engine: 'cpython' });
    assert.throws(() => sb.interrupt(), /interrupt needs a worker sandbox/);
    sb.dispose();
    await assert.rejects(sb.run('1'), UsageError);
  });

  it('MicroPython stays the default engine', async () => {
    const sb = await Sandbox.create();
    assert.equal((await sb.run('import sys\nprint(sys.implementation.name)')).stdout, 'micropython\n');
    sb.dispose();
    const cpy = await Sandbox.create({ engine: 'cpython' });
    assert.equal((await cpy.run('import sys\nprint(sys.implementation.name)')).stdout, 'cpython\n');
    assert.equal(cpy.runSync('print(1 + 1)').stdout, '2\n');
    cpy.dispose();
  });
});
