// Hostile and random programs, a few hundred per run: every run must end as a result (never a throw
// or a rejection), later sandboxes must be unaffected, and the host's memory must stay bounded. The
// seed is printed on failure; PYFENCE_FUZZ_SEED=N replays a run, PYFENCE_FUZZ_RUNS=N makes it longer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pool, Sandbox, type RunResult } from '../src/index.js';

const SEED = Number(process.env.PYFENCE_FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.PYFENCE_FUZZ_RUNS ?? 300);
const LIMITS = { fuel: 50_000_000, timeoutMs: 3000, memoryBytes: 16 * 1024 * 1024, outputBytes: 16 * 1024 };
/** Host RSS may grow by this much over the whole run (sandboxes are created and disposed throughout). */
const RSS_BUDGET_BYTES = 768 * 1024 * 1024;

function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Random = ReturnType<typeof random>;

// Statement shapes an attacker (or a buggy agent) writes; `N` is replaced by a number of any size.
const SHAPES = [
  'x = [0] * N',
  "s = 'a' * N",
  'b = bytearray(N)',
  'd = {i: str(i) for i in range(N)}',
  'while True: pass',
  'def f(n): return f(n + 1)\nf(0)',
  "print('x' * N)",
  'for i in range(N): print(i)',
  "import os\nos.listdir('/')",
  "open('/tmp_' + str(N), 'w').write('y' * N)",
  "open('/../../etc/passwd').read()",
  'import uctypes',
  'import js',
  'import jsffi',
  '__import__("sys").modules.clear()',
  'raise MemoryError',
  'raise SystemExit(N)',
  'import sys\nsys.exit(N)',
  'try:\n    while True: pass\nexcept KeyboardInterrupt:\n    while True: pass',
  'x = ((((((((((N,),),),),),),),),),)',
  "eval('(' * N + ')' * N)",
  "exec('x=1\\n' * N)",
  'import gc\ngc.threshold(N)\nl = [bytearray(64) for _ in range(N)]',
  'import json\njson.loads("[" * N)',
  'import re\nre.match("(a*)*b", "a" * N)',
  'int("9" * N)',
  '2 ** N',
  'sorted(range(N), key=lambda v: -v)',
  "'%s' % ('x',) * N",
  'memoryview(bytearray(N))[N:]',
  'import time\ntime.sleep(N / 1000)',
  'import asyncio\nasync def g(): await asyncio.sleep(0)\nasyncio.run(g())',
  'class A:\n    def __del__(self): print("del")\nA()',
  'iter(int, 1).__next__()',
];

const NUMBERS = [0, 1, -1, 7, 255, 1000, 4096, 65535, 1 << 20, 1 << 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 10 ** 12];

function program(r: Random): string {
  const lines: string[] = [];
  for (let i = 0, n = 1 + r.int(4); i < n; i++) lines.push(r.pick(SHAPES).replaceAll('N', String(r.pick(NUMBERS))));
  let text = lines.join('\n');
  // A third of the programs are mutated at the byte level: cut, duplicated or garbled.
  if (r.int(3) === 0) {
    const chars = [...text];
    for (let i = 0, n = 1 + r.int(6); i < n; i++) {
      const at = r.int(chars.length + 1);
      const op = r.int(3);
      if (op === 0) chars.splice(at, 1 + r.int(8));
      else if (op === 1) chars.splice(at, 0, ...chars.slice(at, at + 1 + r.int(16)));
      else chars.splice(at, 0, String.fromCharCode(r.int(0x80) || 0x20, 0x100 + r.int(0xd700)));
    }
    text = chars.join('');
  }
  return text;
}

/**
 * Gains a read-write window on all of the interpreter's linear memory through a MicroPython
 * use-after-free (a memoryview keeps a bytearray's freed buffer after it grows), then scribbles over
 * it at random. Nothing in the guest's memory is trusted by the host, so this must end as a result.
 */
function scribbler(r: Random): string {
  const writes = Array.from({ length: 4 + r.int(60) }, () => `(${r.int(1 << 24)}, ${r.int(256)})`).join(', ');
  return `
import gc
gc.collect()
v = bytearray(64)
m = memoryview(v)
v.extend(bytes(4096))
spray = [bytearray(8) for _ in range(64)]
for k in range(0, 13):
    if int.from_bytes(m[4*k+4:4*k+8], 'little') == 1 and int.from_bytes(m[4*k+8:4*k+12], 'little') == 8:
        m[4*k+8:4*k+12] = (0x00ffffff).to_bytes(4, 'little')
        m[4*k+12:4*k+16] = bytes(4)
        break
mem = [b for b in spray if len(b) > 8][0]
for at, value in [${writes}]:
    mem[at] = value
print(open('/data').read(), len(str(list(range(100)))))
`;
}

function assertResult(r: RunResult, what: string) {
  assert.equal(typeof r.ok, 'boolean', what);
  if (!r.ok) assert.ok(r.error && typeof r.error.kind === 'string', `${what}: ${JSON.stringify(r.error)}`);
}

describe(`fuzz (seed ${SEED}; replay with PYFENCE_FUZZ_SEED=${SEED})`, () => {
  it(`${RUNS} random and mutated programs each end as a result, with host memory bounded`, async () => {
    const r = random(SEED);
    const rssBefore = process.memoryUsage().rss;
    let peakGrowth = 0;
    const kinds: Record<string, number> = {};
    for (let i = 0; i < RUNS; i++) {
      const code = i % 10 === 9 ? scribbler(r) : program(r);
      const what = `seed ${SEED}, run ${i}:\n${code.slice(0, 400)}`;
      const sb = await Sandbox.create({ limits: LIMITS, files: { '/data': 'ok' } });
      let result: RunResult;
      try {
        result = await sb.run(code);
      } catch (e) {
        assert.fail(`${what}\nrun() threw: ${(e as Error)?.stack ?? e}`);
      }
      assertResult(result, what);
      kinds[result.ok ? 'ok' : result.error!.kind] = (kinds[result.ok ? 'ok' : result.error!.kind] ?? 0) + 1;
      // The sandbox is still usable (or replaced) after whatever happened.
      const after = await sb.run('print(6 * 7)');
      assertResult(after, `${what}\n(the run after it)`);
      sb.dispose();
      peakGrowth = Math.max(peakGrowth, process.memoryUsage().rss - rssBefore);
      assert.ok(peakGrowth < RSS_BUDGET_BYTES, `${what}\nhost RSS grew by ${peakGrowth} bytes`);
    }
    // The corpus must reach more than one outcome, or it is not testing the stops.
    assert.ok(Object.keys(kinds).length >= 4, JSON.stringify(kinds));
    // A fresh sandbox is unaffected by everything before it.
    const clean = await Sandbox.create();
    assert.equal((await clean.run('print(sum(range(10)))')).stdout, '45\n');
    clean.dispose();
  });

  it('worker sandboxes return results for hostile programs too', async () => {
    const r = random(SEED ^ 0x5eed);
    const pool = new Pool({ size: 2, isolation: 'worker', limits: LIMITS });
    try {
      const codes = Array.from({ length: 30 }, (_, i) => (i % 5 === 4 ? scribbler(r) : program(r)));
      const results = await Promise.all(codes.map((code) => pool.run(code)));
      results.forEach((res, i) => assertResult(res, `seed ${SEED}, worker run ${i}:\n${codes[i].slice(0, 400)}`));
      assert.equal((await pool.run('print(1 + 1)')).stdout, '2\n');
    } finally {
      await pool.close();
    }
  });
});
