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

/** sha256 of gc-atb-scan.py's output on the build before the pass (its last line is the layout checksum). */
const EXPECTED_SHA256 = '5e07c3a79981e62ff09afd20a891b98bdcf2ed605be1ba0c162316c0e99e1e8f';
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
