// Garbage is collected during a run (build/passes/mid-run-gc.ts), soundly: programs that keep many
// objects alive while making garbage give the same output whether the collector runs every few
// hundred bytes or never.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { cliAsync } from './helpers.js';

const MiB = 1024 * 1024;

// Live objects of many kinds (dicts, lists, tuples, floats, big ints, closures, generators, bound
// methods, exceptions) built while garbage is made, re-checked at the end and summed into a checksum.
const STRESS = `
def junk(n):
    return [str(j) * 3 for j in range(n)]

def gen(n):
    for i in range(n):
        yield ('g%d' % i, i * 1.5)

class Box:
    def __init__(self, v):
        self.v = [v, str(v), (v, v * 2)]
    def get(self):
        return self.v

def build(k):
    d = {}
    for i in range(k):
        lst = []
        for j in range(6):
            junk(4)
            lst.append(('%d-%d' % (i, j)) + 'z' * (j % 5))
        d['k%d' % i] = lst
        if i % 5 == 0:
            d['b%d' % i] = {'t': tuple(lst), 'f': float(i) / 3, 'big': i * 10**20, 'box': Box(i).get,
                            'g': list(gen(3)), 'c': (lambda x: lambda: x + i)(i)}
        if i % 11 == 0:
            try:
                raise ValueError('e%d' % i, junk(3))
            except ValueError as e:
                d['e%d' % i] = e
    return d

d = build(400)
total = 0
for key in sorted(d):
    v = d[key]
    if isinstance(v, list):
        total += sum(len(s) for s in v)
    elif isinstance(v, dict):
        total += len(v['t']) + int(v['f']) + v['big'] % 1000 + v['box']()[0] + len(v['g']) + v['c']()
    else:
        total += len(v.args[1])
print(len(d), total, sorted(d)[:3])
`;

async function runWith(prefix: string) {
  const sb = await Sandbox.create({ limits: { fuel: 20_000_000_000, timeoutMs: 60_000 } });
  const r = await sb.run(prefix + STRESS);
  sb.dispose();
  assert.equal(r.error, null, JSON.stringify(r.error));
  return r;
}

describe('garbage collection during a run', () => {
  it('gives the same results with collections every 512 bytes as with none', async () => {
    const never = await runWith('import gc\ngc.disable()\n');
    const often = await runWith('import gc\ngc.threshold(512)\n');
    const byDefault = await runWith('');
    assert.match(never.stdout, /^\d+ \d+ \[/);
    assert.equal(often.stdout, never.stdout);
    assert.equal(byDefault.stdout, never.stdout);
    // The collector did run: without it the heap grows past its first 1 MiB.
    assert.ok(often.usage.memoryPeakBytes < never.usage.memoryPeakBytes, `${often.usage.memoryPeakBytes} vs ${never.usage.memoryPeakBytes}`);
    assert.ok(never.usage.memoryPeakBytes > 2 * MiB, `the program is too small to test anything (${never.usage.memoryPeakBytes})`);
  });

  it('completes 400 MiB of garbage under --memory 32MiB', async () => {
    const code = [
      'made = 0',
      'for i in range(400):',
      '    b = bytearray(1 << 20)',
      '    made += len(b)',
      'keep = []',
      'for i in range(100000):',
      '    s = str(i) + "x"',
      '    if i % 1000 == 0:',
      '        keep.append(s)',
      'print(made >> 20, len(keep), keep[-1])',
    ].join('\n');
    const r = await cliAsync(['run', '--json', '--memory', '32MiB', '-c', code], { timeoutMs: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const obj = JSON.parse(r.stdout);
    assert.equal(obj.stdout, '400 100 99000x\n');
    assert.ok(obj.usage.memoryPeakBytes <= 32 * MiB, `peak ${obj.usage.memoryPeakBytes}`);
  });

  it('collects small short-lived objects at the cap: 30 MB of strings under --memory 8MiB', async () => {
    const sb = await Sandbox.create({ limits: { memoryBytes: 8 * MiB } });
    const r = await sb.run('for i in range(500000):\n    s = str(i) + "x"\nprint(s)');
    sb.dispose();
    assert.equal(r.stdout, '499999x\n', JSON.stringify(r.error));
    assert.ok(r.usage.memoryPeakBytes <= 8 * MiB, `peak ${r.usage.memoryPeakBytes}`);
  });

  it('short-lived garbage is collected in a small heap even far below the cap', async () => {
    // Growing instead would touch fresh memory, which costs a page fault per 4 KiB page.
    const sb = await Sandbox.create();
    const r = await sb.run('for i in range(200000):\n    s = str(i) * 10 + "x" * 40\nprint(s[:6])');
    sb.dispose();
    assert.equal(r.stdout, '199999\n', JSON.stringify(r.error));
    assert.ok(r.usage.memoryPeakBytes <= 4 * MiB, `peak ${r.usage.memoryPeakBytes}`);
  });

  it('a growing live set grows the heap instead of collecting over and over', async () => {
    const sb = await Sandbox.create({ limits: { fuel: 100_000_000_000 } });
    const r = await sb.run('keep = []\nfor i in range(200000):\n    keep.append(str(i) * 10)\nprint(len(keep), keep[-1][:6])');
    sb.dispose();
    assert.equal(r.stdout, '200000 199999\n', JSON.stringify(r.error));
    // Collecting at every full heap made this 40x slower before allocations moved the search start.
    assert.ok(r.usage.fuel < 40_000_000_000, `fuel ${r.usage.fuel}`);
  });

  it('a live set larger than the cap still ends with kind memory', async () => {
    const sb = await Sandbox.create({ limits: { memoryBytes: 16 * MiB } });
    const r = await sb.run('keep = []\nwhile True:\n    keep.append(str(len(keep)) * 10)');
    sb.dispose();
    assert.equal(r.error?.kind, 'memory', JSON.stringify(r.error));
    assert.ok(r.usage.memoryPeakBytes <= 16 * MiB);
  });
});
