// Dicts and sets after build/passes/hash-tables.ts (growth at three quarters full, mixed probe start):
// progressions of ints no longer cluster, and nothing a program can observe changes but the order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { Sandbox } from '../src/index.js';
import { improveHashTables } from '../build/passes/hash-tables.js';
import { ROOT } from './helpers.js';

const program = (name: string) => readFileSync(join(ROOT, 'test/programs', name), 'utf8');
const manifest = JSON.parse(readFileSync(join(ROOT, 'wasm/manifest.json'), 'utf8'));

async function run(code: string, options: Record<string, unknown> = {}) {
  const sb = await Sandbox.create(options);
  try {
    return await sb.run(code);
  } finally {
    sb.dispose();
  }
}

describe('hash tables', () => {
  it('set and dict operations on 100k-element progressions of ints finish under the default limits', { timeout: 120_000 }, async () => {
    // Default limits but the deadline: fuel is the deterministic bound; wall time here depends on the load.
    const r = await run(program('hash-progressions.py'), { limits: { timeoutMs: 110_000 } });
    r.throwIfError();
    // The same as CPython 3.11 prints.
    assert.equal(
      r.stdout,
      [
        '100000 100000 20000 180000 80000 160000 2999850000',
        '100000 100000 4999950000',
        '100000 33334',
        '30000 15000',
        '',
      ].join('\n'),
    );
    // Growing only when full, with the identity hash, the set operations alone exhausted the default
    // fuel (2e10) at 2/3 of this size. Now the whole program takes a fraction of it.
    assert.ok(r.usage.fuel < 8e9, `fuel used: ${r.usage.fuel}`);
  });

  it('keeps what programs observe: contents, equality, updates while iterating, mixed key types', async () => {
    const r = await run(program('hash-semantics.py'));
    r.throwIfError();
    assert.equal(
      r.stdout,
      [
        '2000 True True True',
        '2001000 2000',
        '1500 17635226 5012 20499',
        'True 1500 True True True',
        '1490 10',
        '5 bool str tuple none bytes',
        'True False',
        'True True',
        '',
      ].join('\n'),
    );
  });

  it('iterates in the same order, and charges the same fuel, in every sandbox', async () => {
    const code = 'd = {}\nfor i in range(3000):\n    d["k" + str(i * 7)] = i\ns = set(range(0, 9000, 3))\nprint(list(d)[:20], list(s)[:20])';
    const [a, b] = [await run(code), await run(code)];
    a.throwIfError();
    assert.equal(b.stdout, a.stdout);
    assert.equal(b.usage.fuel, a.usage.fuel);
  });

  it('was found in both builds: one dict and one set lookup, each with two insertion sites', () => {
    for (const variant of ['metered', 'unmetered']) {
      const t = manifest.variants[variant].hashTables;
      assert.equal(t.map.allocOffset, 4, variant);
      assert.equal(t.set.allocOffset, 0, variant);
      assert.equal(t.map.insertions, 2, variant);
      assert.equal(t.set.insertions, 2, variant);
      assert.notEqual(t.map.lookup, t.set.lookup);
    }
  });

  it('stops the build when the lookups are not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => improveHashTables(m), /hash tables: expected one mp_map_lookup/);
    m.dispose();
  });
});
