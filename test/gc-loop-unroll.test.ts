// The collector's small loops are peeled one round and unrolled by two before the meter
// (build/passes/gc-loop-unroll.ts): the same rounds run, so a program's output and where its objects
// are placed (id() is an address) are the build's before the pass, mark-stack overflows included;
// and the rewrite computes what the loops computed, for any number of rounds and every way out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { unrollCollectorLoops } from '../build/passes/gc-loop-unroll.js';
import { assertSameLayoutAsBefore, runOnce } from './run-once.js';

/**
 * sha256 of gc-mark-overflow.py's output on the build before the pass (main at e099b91), with the mark
 * stack's region of build/passes/gc-mark-stack.ts reserved and its bound left at 64 entries: the
 * larger stack (this build's) changes the order of marking, not what is marked, so the output is the
 * same. (On a build without the region, ids are 512 KiB lower, and until the last rounds that is all:
 * there memory, 512 KiB smaller, grows in other steps (by a quarter of its size), and the collector's
 * collect-or-grow policy, which reads that size, then collects at other points.)
 */
const EXPECTED_SHA256 = '009934f6c3f4abae3ff6b199d63271bdbc75312a3b3a9f013e3e57ceb51f74f5';
const COLLECTIONS = 10;

// Loops of every shape the pass meets: a continue from inside a block, a br_table to the loop, an
// exit to an outer block from inside, nested loops, a loop that writes memory; and one with a call,
// which it leaves alone.
const LOOPS_WAT = `(module
 (memory 1)
 (func $g (param i32) (result i32) (i32.mul (local.get 0) (i32.const 5)))
 (func $f (export "f") (param $n i32) (param $m i32) (result i32)
  (local $i i32) (local $j i32) (local $acc i32)
  (loop $a
   (local.set $i (i32.add (local.get $i) (i32.const 1)))
   (block $skip
    (br_if $skip (i32.and (local.get $i) (i32.const 1)))
    (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (local.get $i)))
    (br_if $a (i32.lt_u (local.get $i) (local.get $n))))
   (block $out
    (br_table $out $a (i32.lt_u (local.get $i) (local.get $n)))))
  (local.set $i (i32.const 0))
  (loop $outer
   (local.set $j (i32.const 0))
   (loop $inner
    (local.set $acc (i32.xor (i32.add (local.get $acc) (local.get $j)) (i32.shl (local.get $acc) (i32.const 1))))
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br_if $inner (i32.lt_u (local.get $j) (local.get $m))))
   (local.set $i (i32.add (local.get $i) (i32.const 1)))
   (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
  (local.set $i (i32.const 0))
  (block $found
   (loop $search
    (br_if $found (i32.eq (i32.rem_u (i32.mul (local.get $i) (local.get $i)) (i32.const 17)) (i32.rem_u (local.get $m) (i32.const 17))))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_if $search (i32.lt_u (local.get $i) (local.get $n))))
   (local.set $acc (i32.add (local.get $acc) (i32.const 1000))))
  (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const 7))))
  (local.set $i (i32.const 0))
  (loop $fill
   (i32.store8 (local.get $i) (i32.add (local.get $i) (local.get $m)))
   (local.set $i (i32.add (local.get $i) (i32.const 1)))
   (br_if $fill (i32.lt_u (local.get $i) (local.get $n))))
  (local.set $acc (i32.add (local.get $acc) (i32.load (i32.const 1))))
  (local.set $i (i32.const 0))
  (loop $calls
   (local.set $acc (i32.add (local.get $acc) (call $g (local.get $i))))
   (local.set $i (i32.add (local.get $i) (i32.const 1)))
   (br_if $calls (i32.lt_u (local.get $i) (local.get $m))))
  (local.get $acc)))`;

function instantiate(bytes: Uint8Array): (n: number, m: number) => number {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports.f as (n: number, m: number) => number;
}

const loopsIn = (text: string) => (text.match(/\(loop /g) ?? []).length;

describe('gc loop unroll', () => {
  it('places every object where the build before did through mark-stack overflows, and prints what python3 prints', async () => {
    await assertSameLayoutAsBefore('gc-mark-overflow.py', EXPECTED_SHA256);
  });

  it('still charges every collection by the heap it walks: fuel per collection grows with the live set', async () => {
    const perCollection = async (live: number) => {
      const program = (collections: number) => `import gc\nlive = [[i] for i in range(${live})]\nfor _ in range(${collections}):\n    gc.collect()\nprint(len(live))\n`;
      const [none, many] = [await runOnce(program(0)), await runOnce(program(COLLECTIONS))];
      none.throwIfError();
      many.throwIfError();
      assert.equal(many.stdout, `${live}\n`);
      return (many.usage.fuel - none.usage.fuel) / COLLECTIONS;
    };
    const small = await perCollection(10_000);
    const large = await perCollection(20_000);
    // Marked and swept, every live object costs instructions each collection (about 12.3M units for
    // 10,000 and 21.7M for 20,000): a collector whose loops went uncharged would cost a few hundred.
    assert.ok(small > 10_000 * 100, `fuel per collection of 10,000 live objects: ${small}`);
    assert.ok(large > 1.6 * small, `fuel per collection: ${small} for 10,000 live objects, ${large} for 20,000`);
  });

  it('computes what the loops computed for every round count and way out', () => {
    const before = binaryen.parseText(LOOPS_WAT);
    const after = binaryen.parseText(LOOPS_WAT);
    try {
      const report = unrollCollectorLoops(after, ['f']);
      assert.equal(report.loops.f, 5); // all but the loop with a call
      assert.ok(after.validate());
      const callLoop = /\(loop \$calls/;
      assert.match(after.emitText(), callLoop);
      // Each treated loop stays one loop, its body three times: $outer's copies hold 3 of $inner.
      assert.equal(loopsIn(before.emitText()), 6);
      assert.equal(loopsIn(after.emitText()), 8);
      const f0 = instantiate(before.emitBinary());
      const f1 = instantiate(after.emitBinary());
      for (let n = 0; n <= 13; n++) for (let m = 0; m <= 19; m++) assert.equal(f1(n, m), f0(n, m), `f(${n}, ${m})`);
    } finally {
      before.dispose();
      after.dispose();
    }
  });

  it('stops the build when a collector function has not the expected small loops', () => {
    const m = new binaryen.Module();
    m.addFunction('gc', binaryen.none, binaryen.none, [], m.nop());
    assert.throws(() => unrollCollectorLoops(m, ['gc']), /gc loop unroll: expected at least 4 small loops in gc, treated 0/);
    m.dispose();
  });
});
