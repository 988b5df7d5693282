// The interned-string filter (build/passes/qstr-filter.ts): a new str skips the scan of every interned
// name unless its hash's slot says to scan, and nothing a program can observe changes, above all that a
// str equal to an interned name is that name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { Sandbox } from '../src/index.js';
import { filterInternedLookups } from '../build/passes/qstr-filter.js';
import { ROOT } from './helpers.js';
import { runOnce } from './run-once.js';

const manifest = JSON.parse(readFileSync(join(ROOT, 'wasm/manifest.json'), 'utf8'));

describe('interned-string filter', () => {
  it('keeps identity with interned names: compiled, set at run time, the longest, and too long', async () => {
    const r = await runOnce(readFileSync(join(ROOT, 'test/programs/qstr-identity.py'), 'utf8'));
    r.throwIfError();
    // What the stock MicroPython 1.27 loader prints for the same program.
    assert.equal(
      r.stdout,
      ['3000 3000', '124750 True', 'True True False', 'True', 'RuntimeError name too long', 'True False 1', ''].join('\n'),
    );
  });

  it('makes a new string cost no scan of the interned names', async () => {
    const code = (build: string) => `x = []\nfor i in range(20000):\n    x.append(${build})`;
    const [strings, ints] = [await runOnce(code('"k" + str(i)')), await runOnce(code('i'))];
    strings.throwIfError();
    ints.throwIfError();
    // Two new strings per iteration. Scanning the 1,500 names of the baked state cost about 25,000
    // fuel per iteration under the old build meter, hashing and allocating about 3,000; in the one
    // meter's unit (one per instruction) hashing and allocating cost about 6,300, so a scan would
    // cost about 50,000.
    const perIteration = (strings.usage.fuel - ints.usage.fuel) / 20000;
    assert.ok(perIteration < 12_000, `fuel per iteration: ${perIteration}`);
  });

  it('makes a new string equal to an interned name cost no scan either', async () => {
    // "isinstance" is a name of the interpreter's own pool, alone in its slot; "isinstancf" is no name.
    const code = (tail: string) => `a = "isinst"\nb = "${tail}"\nfor i in range(20000):\n    x = a + b\nprint(x, x == "isinstance")`;
    const [named, unnamed] = [await runOnce(code('ance')), await runOnce(code('ancf'))];
    named.throwIfError();
    unnamed.throwIfError();
    assert.equal(named.stdout, 'isinstance True\n');
    // The build before scanned the 500 names made while baking, then searched the interpreter's pool:
    // about 11,500 fuel more per found name than per new string.
    const perIteration = (named.usage.fuel - unnamed.usage.fuel) / 20000;
    assert.ok(perIteration < 800, `fuel per iteration: ${perIteration}`);
  });

  it('finds names interned before a snapshot in the restored sandbox', async () => {
    const sb = await Sandbox.create();
    (await sb.run('class C:\n    pass\nfor i in range(300):\n    setattr(C, "snap_" + str(i), i)')).throwIfError();
    const bytes = await sb.snapshot();
    sb.dispose();
    const restored = await Sandbox.restore(bytes);
    try {
      const r = await restored.run('names = {k: k for k in dir(C)}\nprint(sum(("snap_" + str(i)) is names["snap_" + str(i)] for i in range(300)))');
      r.throwIfError();
      assert.equal(r.stdout, '300\n');
    } finally {
      restored.dispose();
    }
  });

  it('charges the same fuel in every sandbox', async () => {
    const code = 'class C:\n    pass\nfor i in range(500):\n    setattr(C, "n" + str(i), i)\nprint(sum(getattr(C, "n" + str(i)) for i in range(500)))';
    const [a, b] = [await runOnce(code), await runOnce(code)];
    a.throwIfError();
    assert.equal(a.stdout, '124750\n');
    assert.equal(b.stdout, a.stdout);
    assert.equal(b.usage.fuel, a.usage.fuel);
  });

  it('was filled at bake time from every pool of both builds', () => {
    for (const variant of ['metered', 'unmetered']) {
      const fill = manifest.variants[variant].bake.qstrFilter;
      assert.ok(fill.qstrs > 1000 && fill.pools >= 3, `${variant}: ${JSON.stringify(fill)}`);
      // Most names alone in their slot (found without a scan), few slots shared.
      assert.ok(fill.singleSlots > fill.qstrs * 0.85 && fill.sharedSlots < fill.qstrs * 0.1, `${variant}: ${JSON.stringify(fill)}`);
      assert.equal(manifest.variants[variant].qstrFilter.lastPoolAddress, manifest.variants.metered.qstrFilter.lastPoolAddress);
    }
  });

  it('stops the build when the lookup is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => filterInternedLookups(m), /qstr filter: expected one qstr_find_strn, found 0/);
    m.dispose();
  });
});
