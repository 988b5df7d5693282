// gc_alloc steps over allocation-table bytes with no free block eight at a time
// (build/passes/gc-atb-scan.ts): the same blocks are chosen, so outputs and heap layouts (id() is an
// address) are the build's before the pass, and a rescan over live objects costs far less fuel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { skipFullAllocationTableBytes } from '../build/passes/gc-atb-scan.js';
import { ROOT } from './helpers.js';
import { assertSameLayoutAsBefore, runOnce } from './run-once.js';

/**
 * sha256 of gc-atb-scan.py's output on the build before the pass (its last line is the layout
 * checksum), with every id() 512 KiB higher: the mark stack's region (build/passes/gc-mark-stack.ts)
 * moved the heap's start by that much, and nothing else (each of the program's ids, printed, differs
 * by exactly 524,288 from the build without the region).
 */
const EXPECTED_SHA256 = '7749d959cc9724c4b85b11e66b902a8ba77034a96441467f114dee6bd6ecef71';
/** Fuel of one rescan of gc-rescan.py's live objects: about 485,000 on the build before the pass, 37,000 with it. */
const MAX_FUEL_PER_RESCAN = 150_000;

const program = (name: string) => readFileSync(join(ROOT, 'test/programs', name), 'utf8');

describe('gc allocation-table scan', () => {
  it('places every object where the build before did, and prints what python3 prints', async () => {
    await assertSameLayoutAsBefore('gc-atb-scan.py', EXPECTED_SHA256);
  });

  it('rescans live objects after an early free for a fraction of the fuel', async () => {
    const code = program('gc-rescan.py');
    assert.match(code, /^EXTENDS = 200$/m);
    const rescans = await runOnce(code);
    const none = await runOnce(code.replace(/^EXTENDS = 200$/m, 'EXTENDS = 0'));
    rescans.throwIfError();
    none.throwIfError();
    assert.equal(rescans.stdout, '20000 14000\n');
    const perRescan = (rescans.usage.fuel - none.usage.fuel) / 200;
    assert.ok(perRescan < MAX_FUEL_PER_RESCAN, `fuel per rescan: ${perRescan}`);
  });

  it('stops the build when gc_alloc has not the expected byte loops', () => {
    const m = new binaryen.Module();
    m.addFunction('alloc', binaryen.createType([binaryen.i32, binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => skipFullAllocationTableBytes(m, 'alloc'), /gc ATB scan: expected 1 single-block and 2 multi-block byte loops in gc_alloc, found 0 and 0/);
    m.dispose();
  });
});
