// The trusted mode of the one meter (meterTrustedBinary), which meters the interpreters' builds:
// exception handling is accepted, and a throw, which leaves a function without passing its exit
// settle, still leaves nothing uncharged. Checked against the counting oracle of the property test
// on modules that throw through frames, rethrow, delegate, catch in the same frame and recurse; a
// guest module with the same code is still refused (kind denied).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import binaryen from 'binaryen';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../src/engine/abi.js';
import { instrumentBinary, meterTrustedBinary } from '../src/instrument/meter.js';
import { COUNT_EXPORT, countInstructions } from './support/count-instructions.js';

// $burn runs a loop of n iterations (charged in the local until a settle) and throws at its end: the
// local's count must reach the global before the throw. $deep recurses, throwing from the bottom
// through every frame; $run catches, rethrows, delegates and catches again, n times.
const LEGACY = `(module
  (tag $e (param i32))
  (func $burn (param $n i32) (local $i i32) (local $x i32)
    (loop $l
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))
      (local.set $x (i32.xor (i32.rotl (local.get $x) (i32.const 5)) (i32.shr_u (local.get $x) (i32.const 3))))
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 17)) (i32.and (local.get $i) (i32.const 255))))
      (local.set $x (i32.xor (i32.rotl (local.get $x) (i32.const 7)) (i32.shr_u (local.get $x) (i32.const 11))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (throw $e (local.get $x)))
  (func $deep (param $d i32) (param $n i32)
    (if (i32.eqz (local.get $d)) (then (call $burn (local.get $n))))
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    (call $deep (i32.sub (local.get $d) (i32.const 1)) (local.get $n)))
  (func $inner (param $n i32) (result i32)
    (try (result i32)
      (do (try (result i32) (do (call $deep (i32.const 20) (local.get $n)) (i32.const 0)) (delegate 0)))
      (catch $e (drop) (i32.const 1))))
  (func $rethrows (param $n i32) (result i32)
    (try (result i32)
      (do (call $deep (i32.const 3) (local.get $n)) (i32.const 0))
      (catch_all (rethrow 0))))
  (func (export "run") (param $n i32) (result i32) (local $k i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (call $inner (i32.add (local.get $n) (local.get $k)))))
      (local.set $sum (i32.add (local.get $sum)
        (try (result i32) (do (call $rethrows (local.get $k))) (catch $e))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
    (local.get $sum)))`;

// The same shape in the newer form: try_table's catches are branches.
const TRY_TABLE = `(module
  (tag $e (param i32))
  (func $burn (param $n i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (throw $e (local.get $i)))
  (func (export "run") (param $n i32) (result i32) (local $k i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum)
        (block $caught (result i32)
          (try_table (catch $e $caught) (call $burn (i32.add (local.get $n) (local.get $k))))
          (i32.const 0))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (local.get $n))))
    (local.get $sum)))`;

function binary(wat: string): Uint8Array {
  const m = binaryen.parseText(wat);
  m.setFeatures(binaryen.Features.MVP | binaryen.Features.ExceptionHandling | binaryen.Features.Multivalue | binaryen.Features.ReferenceTypes);
  assert.ok(m.validate());
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

/** Runs `run(n)` on the metered module with a plain fuel global: the units it charged, and the result. */
function meteredRun(bytes: Uint8Array, n: number): { charged: number; result: number; exhaustedCalls: number } {
  const { bytes: metered } = meterTrustedBinary(bytes);
  let exhaustedCalls = 0;
  const START = 2 ** 30;
  let fuel: WebAssembly.Global | undefined;
  let refills = 0;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(metered as Uint8Array<ArrayBuffer>), {
    [HOST_IMPORT_MODULE]: {
      [FUEL_EXHAUSTED_IMPORT]: () => {
        exhaustedCalls++;
        refills += START - (fuel!.value as number);
        fuel!.value = START;
      },
    },
  });
  fuel = inst.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global;
  fuel.value = START;
  const result = (inst.exports.run as (x: number) => number)(n);
  return { charged: refills + START - (fuel.value as number), result, exhaustedCalls };
}

function oracleRun(bytes: Uint8Array, n: number): { executed: number; result: number } {
  const o = new WebAssembly.Instance(new WebAssembly.Module(countInstructions(bytes, true) as Uint8Array<ArrayBuffer>));
  const result = (o.exports.run as (x: number) => number)(n);
  return { executed: Number((o.exports[COUNT_EXPORT] as WebAssembly.Global).value), result };
}

// Node 20's V8 runs legacy exception handling only (both interpreters' builds use it); try_table is
// checked for a valid rewrite there, and for counts where V8 runs it.
const runsTryTable = WebAssembly.validate(binary(TRY_TABLE) as Uint8Array<ArrayBuffer>);

test('trusted mode, try_table: the rewrite is valid and settles before the throw', () => {
  const { bytes, report } = meterTrustedBinary(binary(TRY_TABLE));
  const m = binaryen.readBinary(bytes);
  m.setFeatures(binaryen.Features.All);
  assert.ok(m.validate(), 'the metered module validates');
  m.dispose();
  assert.equal(report.throwSettles, 1);
});

test('trusted mode: a function without loops holding a try_table is not charged by its longest path', () => {
  // A catch of try_table branches to its label from inside the call: an edge the longest-path walk
  // does not see. $guarded (over FLAT_MAX_UNITS instructions, a short path otherwise) must keep its
  // settles and be checked at entry instead; $plain, the same without try_table, is charged at entry.
  const steps = '(local.set $x (i32.add (local.get $x) (i32.const 1)))'.repeat(20);
  const wat = `(module
    (tag $e (param i32))
    (func $thrower (param i32) (throw $e (local.get 0)))
    (func $guarded (param $n i32) (result i32) (local $x i32)
      (block $caught (result i32)
        (try_table (catch $e $caught) (call $thrower (local.get $n)))
        (i32.const 0))
      (drop)
      ${steps}
      (local.get $x))
    (func $plain (param $n i32) (result i32) (local $x i32)
      (block $caught (result i32)
        (call $thrower (local.get $n))
        (i32.const 0))
      (drop)
      ${steps}
      (local.get $x))
    (export "guarded" (func $guarded))
    (export "plain" (func $plain)))`;
  const { report } = meterTrustedBinary(binary(wat));
  assert.equal(report.entryChecks, 2, '$thrower and $plain are charged at entry, $guarded is not');
});

for (const [form, wat] of [['legacy try/catch, rethrow, delegate', LEGACY], ...(runsTryTable ? [['try_table', TRY_TABLE]] : [])] as const) {
  test(`trusted mode, ${form}: fuel charged >= instructions executed across throws`, () => {
    const bytes = binary(wat);
    // n = 60: a throw with ~2,000 units in the local, below LOOP_BATCH: lost unless settled first.
    for (const n of [1, 7, 60, 300, 5000]) {
      const oracle = oracleRun(bytes, n);
      const metered = meteredRun(bytes, n);
      assert.equal(metered.result, oracle.result, `n=${n}: metering changed the result`);
      assert.ok(metered.charged >= oracle.executed, `n=${n}: charged ${metered.charged} for ${oracle.executed} instructions`);
      // Not wildly more either: the throws' loops are charged once, not per frame.
      assert.ok(metered.charged <= 2 * oracle.executed + 1000, `n=${n}: charged ${metered.charged} for ${oracle.executed} instructions`);
    }
    const { report } = meterTrustedBinary(bytes);
    assert.ok(report.throwSettles >= 1, JSON.stringify(report));
  });

}

for (const [form, wat] of [['legacy try/catch', LEGACY], ['try_table', TRY_TABLE]] as const) {
  test(`${form}: a guest module is still refused exception handling`, () => {
    const { meta } = instrumentBinary(binary(wat));
    assert.match(meta.denied ?? '', /exception handling/);
  });
}

test('trusted mode keeps memory.grow and adds only the fuel import and global', () => {
  const bytes = binary(`(module (memory 1) (func (export "run") (param i32) (result i32) (memory.grow (local.get 0))))`);
  const { bytes: metered, report } = meterTrustedBinary(bytes);
  assert.equal(report.growSites, 0);
  const m = new WebAssembly.Module(metered as Uint8Array<ArrayBuffer>);
  assert.deepEqual(WebAssembly.Module.imports(m), [{ module: HOST_IMPORT_MODULE, name: FUEL_EXHAUSTED_IMPORT, kind: 'function' }]);
  assert.deepEqual(WebAssembly.Module.exports(m).map((e) => e.name).sort(), [FUEL_GLOBAL_EXPORT, 'run'].sort());
  const inst = new WebAssembly.Instance(m, { [HOST_IMPORT_MODULE]: { [FUEL_EXHAUSTED_IMPORT]: () => {} } });
  assert.equal((inst.exports.run as (x: number) => number)(2), 1);
  assert.equal((inst.exports.run as (x: number) => number)(0), 3);
});
