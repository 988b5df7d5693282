// Turning a str index into a byte position walks ASCII eight bytes at a time (build/passes/utf8-index.ts):
// every index, slice and find must land where the one-character walk landed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { walkAsciiEightAtATime } from '../build/passes/utf8-index.js';
import { ROOT } from './helpers.js';
import { runOnce } from './run-once.js';

describe('utf8 index walk', () => {
  it('indexes, slices and finds at every position of mixed ASCII and multi-byte text', async () => {
    const r = await runOnce(readFileSync(join(ROOT, 'test/programs/utf8-index.py'), 'utf8'));
    r.throwIfError();
    // What both the stock MicroPython 1.27 loader and CPython 3.11 print.
    assert.equal(
      r.stdout,
      ['840 960 776509276', 'ail a€a😀 True -1 39', 'IndexError True', 'IndexError False', '8 789abcdef 1007 f 32', ''].join('\n'),
    );
  });

  it('makes reaching a far start cheaper than scanning from the beginning', async () => {
    const code = (start: number) => `t = "x" * 60000\nfor k in range(100):\n    t.find("y", ${start})`;
    const [far, near] = [await runOnce(code(59000)), await runOnce(code(1))];
    far.throwIfError();
    near.throwIfError();
    // One character per step, reaching index 59000 cost about twice scanning 60000 bytes for "y".
    assert.ok(far.usage.fuel < near.usage.fuel / 2, `far ${far.usage.fuel}, near ${near.usage.fuel}`);
  });

  it('stops the build when the walk is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => walkAsciiEightAtATime(m), /utf8 index: expected one character walk/);
    m.dispose();
  });
});
