// The CPython engine in a worker thread, in pools and in the REPL: watchdog, interrupt, files, and
// sleeps that do not spin. Limits and stops in a worker are the behaviour suite's, for every engine
// (test/engine-limits.test.ts); an AbortSignal's, engine-interrupt.test.ts and abort.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Pool, Sandbox, UsageError } from '../src/index.js';
import { createUnmeteredSandbox } from '../src/api/sandbox.js';
import { CLI, ROOT, tempDir } from './helpers.js';

/** Resolves once `text` has been streamed by the run (bounded). */
function streamed(text: string, timeoutMs = 30_000) {
  let seen = '';
  let found!: () => void;
  const promise = new Promise<void>((resolve, reject) => {
    found = resolve;
    setTimeout(() => reject(new Error(`never streamed ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`)), timeoutMs).unref();
  });
  return {
    promise,
    onStdout: (t: string) => {
      seen += t;
      if (seen.includes(text)) found();
    },
  };
}

describe("CPython engine: isolation 'worker'", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython', isolation: 'worker', files: { '/in.txt': 'given' } });
  });
  after(() => sb.dispose());

  it('runs code in the worker, keeps globals, streams output', async () => {
    const r = await sb.run('import sys, threading\nx = 21\nprint(sys.implementation.name, x * 2)');
    assert.equal(r.stdout, 'cpython 42\n', JSON.stringify(r.error));
    const seen: string[] = [];
    const s = await sb.run('for i in range(3):\n    print(x + i, flush=True)', { onStdout: (t) => seen.push(t) });
    assert.equal(s.stdout, '21\n22\n23\n');
    assert.equal(seen.join(''), '21\n22\n23\n');
    assert.ok(seen.length >= 3, 'each flushed line arrives as it is printed');
    const both = await Promise.allSettled([sb.run('pass'), sb.run('pass')]);
    assert.equal(both[0].status, 'fulfilled');
    assert.match(String((both[1] as PromiseRejectedResult).reason), /already running/);
  });

  it('files between runs go through the worker', async () => {
    const text = async (path: string) => new TextDecoder().decode(await sb.fs.readFile(path));
    assert.equal(await text('/in.txt'), 'given');
    await sb.fs.writeFile('/data.csv', 'a,b\n1,2\n');
    const r = await sb.run('import csv\nrows = list(csv.DictReader(open("/data.csv")))\nprint(rows)\nopen("/out.txt", "w").write("done")');
    assert.equal(r.stdout, "[{'a': '1', 'b': '2'}]\n");
    assert.equal(await text('/out.txt'), 'done');
    assert.deepEqual((await sb.fs.list('/')).map((e) => e.name).sort(), ['data.csv', 'in.txt', 'out.txt']);
    // A worker's session snapshots; restoring it inline gives the same globals and files.
    const copy = await Sandbox.restore(await sb.snapshot(), { engine: 'cpython' });
    assert.equal((await copy.run('print(rows[0]["b"], open("/out.txt").read())')).stdout, '2 done\n');
    copy.dispose();
  });

  it('interrupt() raises KeyboardInterrupt in a loop and in a sleep; the session goes on', async () => {
    await sb.run('n = 0');
    const looping = streamed('looping');
    const run = sb.run('while True:\n    n += 1\n    if n == 1000: print("looping", flush=True)', { onStdout: looping.onStdout, limits: { timeoutMs: 60_000 } });
    await looping.promise;
    sb.interrupt();
    const r = await run;
    assert.equal(r.error?.type, 'KeyboardInterrupt');
    assert.equal(r.error?.kind, 'python');
    assert.equal(r.sandboxReplaced, false);
    assert.equal((await sb.run('print(n >= 1000)')).stdout, 'True\n');

    // Interrupts keep coming until the run ends: the first after the run starts lands in the sleep
    // (or, rarely, in the import before it: then again).
    let woke: Awaited<ReturnType<typeof sb.run>> | undefined;
    for (let attempt = 0; attempt < 5 && !/line 2, in <module>/.test(woke?.error?.traceback ?? ''); attempt++) {
      const started = performance.now();
      const nap = sb.run('import time\ntime.sleep(60)\nprint("woke")', { limits: { timeoutMs: 120_000 } });
      const knock = setInterval(() => sb.interrupt(), 100);
      woke = await nap;
      clearInterval(knock);
      assert.ok(performance.now() - started < 30_000, 'the sleep ended long before its 60 s');
      assert.equal(woke.error?.type, 'KeyboardInterrupt');
      assert.equal(woke.stdout, '');
    }
    assert.match(woke!.error!.traceback!, /line 2, in <module>\n {4}time\.sleep\(60\)/);

    // Caught like Ctrl-C in Python; an interrupt between runs is moot.
    const caught = streamed('ready');
    const handled = sb.run('import time\ntry:\n    print("ready", flush=True)\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print("handled")', { onStdout: caught.onStdout });
    await caught.promise;
    sb.interrupt();
    assert.equal((await handled).stdout, 'ready\nhandled\n');
    sb.interrupt();
    assert.equal((await sb.run('print("next")')).stdout, 'next\n');
  });
});

describe('CPython engine: the watchdog', () => {
  it('terminates a worker whose guest cannot stop itself, and a fresh CPython worker follows', async () => {
    // No limit on the meter inside wasm: only the watchdog can stop this guest, which also swallows
    // every KeyboardInterrupt.
    const sb = await createUnmeteredSandbox({ engine: 'cpython', isolation: 'worker', limits: { timeoutMs: 300 } });
    try {
      await sb.run('state = 1');
      const started = performance.now();
      const r = await sb.run('print("before", flush=True)\nwhile True:\n    try:\n        while True: pass\n    except BaseException:\n        pass');
      const elapsed = performance.now() - started;
      assert.equal(r.error?.kind, 'timeout');
      assert.match(r.error!.message, /terminated by the watchdog/);
      assert.equal(r.stdout, 'before\n');
      assert.equal(r.sandboxReplaced, true);
      assert.ok(elapsed >= 300 && elapsed < 30_000, `stopped after ${elapsed} ms`);
      const next = await sb.run('import sys\nprint(sys.implementation.name, "state" in globals())');
      assert.equal(next.stdout, 'cpython False\n');
    } finally {
      sb.dispose();
    }
  });
});

describe('CPython engine: time.sleep does not spin', () => {
  const SLEEP = 'import time\nt = time.monotonic()\ntime.sleep(0.5)\nprint(time.monotonic() - t >= 0.5)';

  for (const isolation of ['inline', 'worker'] as const) {
    it(`sleeps ${isolation} without using CPU or fuel`, async () => {
      const sb = await Sandbox.create({ engine: 'cpython', isolation });
      try {
        await sb.run('pass'); // the first run's own setup is not measured
        const cpu = process.cpuUsage();
        const started = performance.now();
        const r = await sb.run(SLEEP);
        const wallMs = performance.now() - started;
        const used = process.cpuUsage(cpu);
        const cpuMs = (used.user + used.system) / 1000;
        assert.equal(r.stdout, 'True\n', JSON.stringify(r.error));
        assert.ok(wallMs >= 500);
        // Spinning for 0.5 s costs about 500 ms of CPU and over a billion fuel units.
        assert.ok(cpuMs < 250, `the process used ${cpuMs} ms of CPU during a 500 ms sleep`);
        assert.ok(r.usage.fuel < 20_000_000, `a sleep used ${r.usage.fuel} fuel`);
      } finally {
        sb.dispose();
      }
    });
  }

  it('a sleep ends at the deadline with a soft stop; a virtual clock sleeps without waiting', async () => {
    const sb = await Sandbox.create({ engine: 'cpython' });
    const started = performance.now();
    const r = await sb.run('import time\ntime.sleep(60)', { limits: { timeoutMs: 300 } });
    assert.ok(performance.now() - started < 10_000);
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.sandboxReplaced, false);
    assert.match(r.error!.traceback!, /time\.sleep\(60\)/);
    sb.dispose();
    const fixed = await Sandbox.create({ engine: 'cpython', clock: { fixedMs: 0 } });
    const at = performance.now();
    const v = await fixed.run('import time\nt = time.time()\ntime.sleep(3600)\nprint(time.time() - t >= 3600)');
    assert.equal(v.stdout, 'True\n');
    assert.ok(performance.now() - at < 10_000);
    fixed.dispose();
  });
});

describe("CPython engine: Pool", () => {
  for (const isolation of ['inline', 'worker'] as const) {
    it(`gives every run a fresh sandbox, also after a stop (${isolation})`, async () => {
      const pool = new Pool({ engine: 'cpython', isolation, size: 1, env: { WHO: 'pool' }, files: { '/in.txt': 'given' } });
      const program =
        'import os\ntry:\n    n += 1\nexcept NameError:\n    n = 0\nprint(n, os.getenv("WHO"), sorted(os.listdir("/")))\n' +
        'open("/left.txt", "w").write("x")\nos.environ["WHO"] = "changed"';
      const outs: string[] = [];
      for (let i = 0; i < 3; i++) outs.push((await pool.run(program)).stdout);
      const stopped = await pool.run('open("/left.txt", "w").write("x")\nwhile True: pass', { limits: { fuel: 20_000_000 } });
      assert.equal(stopped.error?.kind, 'fuel');
      outs.push((await pool.run(program)).stdout);
      assert.deepEqual(outs, Array(4).fill("0 pool ['in.txt']\n"));
      assert.equal((await pool.run('a + 1', { inputs: { a: 41 } })).value, 42);
      await pool.close();
    });
  }

  it('runs N programs concurrently on its workers, each with its own output', async () => {
    const pool = new Pool({ engine: 'cpython', isolation: 'worker', size: 2 });
    await pool.ready();
    // Each run records when its sleep began and ended: with two workers, two runs overlap.
    const runs = Array.from({ length: 6 }, (_, i) =>
      pool.run(`import time, json, statistics\nt0 = time.time()\ntime.sleep(0.4)\nprint(json.dumps([${i}, statistics.mean([${i}, ${i + 2}]), t0, time.time()]))`),
    );
    const results = await Promise.all(runs);
    await pool.close();
    const rows = results.map((r) => JSON.parse(r.stdout) as [number, number, number, number]);
    assert.deepEqual(rows.map(([i, mean]) => [i, mean]), [0, 1, 2, 3, 4, 5].map((i) => [i, i + 1]));
    const overlapping = rows.some((a, i) => rows.some((b, j) => i !== j && a[2] < b[3] && b[2] < a[3]));
    assert.ok(overlapping, 'no two runs were in their sleep at the same time');
  });

  it('grants host functions, sync and async, to its worker sandboxes; the gate refuses the rest', async () => {
    const pool = new Pool({
      engine: 'cpython',
      isolation: 'worker',
      size: 1,
      modules: { calc: { twice: (x) => 2 * (x as number), later: async (x) => `got ${String(x)}` } },
    });
    const r = await pool.run('import calc\nprint(calc.twice(21), calc.later("it"))\ncalc.twice(5)');
    assert.equal(r.stdout, '42 got it\n', r.error?.traceback ?? '');
    assert.equal(r.value, 10);
    const forged = await pool.run('import calc\ncalc.__dict__.get("missing", None) or calc.missing()');
    assert.equal(forged.ok, false);
    await pool.close();
  });
});

describe('pyfence repl --engine cpython', () => {
  function startRepl(args: string[] = []) {
    const child = spawn(process.execPath, [CLI, 'repl', '--engine', 'cpython', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    return {
      child,
      write: (text: string) => child.stdin.write(text),
      expect: async (text: string) => {
        const until = Date.now() + 30_000;
        while (!stdout.includes(text)) {
          if (Date.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      end: async () => {
        child.stdin.end();
        const code = await exited;
        clearTimeout(kill);
        return { code, stdout, stderr };
      },
    };
  }

  it('keeps state between inputs, echoes values, runs blocks, reports errors', async () => {
    const repl = startRepl(['--env', 'A=b']);
    repl.write('from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n\np = P(5)\np\np.x * 2\n');
    repl.write('def f(n):\n    return n + 1\n\nf(p.x)\nd = {"a": [1,\n  2]}\nd\n1/0\nprint("after")\nimport os\nos.getenv("A")\n_\n');
    const { code, stdout, stderr } = await repl.end();
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "P(x=5)\n10\n6\n{'a': [1, 2]}\nafter\n'b'\n'b'\n");
    assert.equal(stderr, 'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\n    1/0\n    ~^~\nZeroDivisionError: division by zero\n');
  });

  it('Ctrl-C interrupts the running input and the session goes on', async () => {
    const repl = startRepl();
    repl.write('n = 0\nwhile True:\n    n += 1\n    if n == 1000: print("looping", flush=True)\n\n');
    await repl.expect('looping\n');
    repl.child.kill('SIGINT');
    repl.write('print("alive", n > 0)\n');
    await repl.expect('alive True\n');
    const { code, stdout, stderr } = await repl.end();
    assert.equal(code, 0);
    assert.equal(stdout, 'looping\nalive True\n');
    assert.match(stderr, /KeyboardInterrupt/);
  });

  it('--save keeps the session and --load continues it', async () => {
    const file = join(tempDir('repl'), 'session.snap');
    const first = startRepl(['--save', file]);
    first.write('total = 40 + 2\n');
    first.write('def twice(x):\n    return 2 * x\n\n');
    const saved = await first.end();
    assert.equal(saved.code, 0, saved.stderr);
    const second = startRepl(['--load', file]);
    second.write('print(twice(total))\n');
    const loaded = await second.end();
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /84\n/);
  });
});
