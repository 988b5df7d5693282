// A function without loops that is called only directly, and never from a function itself charged
// whole, is charged and checked by its callers right before each call (src/instrument/meter.ts,
// flatFunctions): one write of the fuel global per call instead of the caller's settle and the
// callee's own charge. Fuel charged >= instructions executed (the counting oracle), and a caller's
// loop whose only check is that one stops on fuel within an iteration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasmModule } from '../src/api/wasm-module.js';
import { instrumentBinary } from '../src/instrument/meter.js';
import { watToBinary } from '../src/instrument/load.js';
import { COUNT_EXPORT, countInstructions } from './support/count-instructions.js';

// $helper: no loop, calls a leaf only (a leaf is charged by its caller and checks nothing): in run's
// loop, the check before the call of $helper is the only one an iteration passes. $outer: no loop,
// calls $inner; $inner is called from a function charged whole, so it charges itself at entry.
// $helper's arms run about 70 instructions: more than a call's own CALL_UNITS, so that a charge of
// it lost would show as charged < executed.
const STEPS = '(local.set $x (i32.add (local.get $x) (i32.const 1)))'.repeat(16);
const WAT = `(module
  (func $leaf (param i32) (result i32) (i32.xor (i32.mul (local.get 0) (i32.const 7)) (i32.const 0x55)))
  (func $helper (param i32) (result i32) (local $x i32)
    (local.set $x (local.get 0))
    (if (result i32) (i32.and (local.get 0) (i32.const 1))
      (then ${STEPS} (i32.add (call $leaf (local.get $x)) (i32.const 3)))
      (else ${STEPS} (i32.sub (call $leaf (i32.shr_u (local.get $x) (i32.const 1))) (i32.const 5)))))
  (func $inner (param i32) (result i32) (i32.add (call $leaf (local.get 0)) (i32.const 1)))
  (func $outer (param i32) (result i32) (i32.mul (call $inner (local.get 0)) (i32.const 3)))
  (func (export "run") (param i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call $helper (local.get $i))))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 1023)))
        (then (local.set $s (i32.add (local.get $s) (call $outer (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $s)))`;

test('a function without loops called only directly is charged and checked by its callers', async () => {
  const bytes = (await watToBinary(WAT)) as Uint8Array<ArrayBuffer>;
  const { meta } = instrumentBinary(bytes);
  assert.equal(meta.report.callerChecked, 2, '$helper and $outer are checked by their caller');
  assert.equal(meta.report.entryChecks, 3, '$inner charges itself at entry, as they would have');
  assert.equal(meta.report.callerCharged, 1, '$leaf is charged by its callers');

  const oracle = new WebAssembly.Instance(new WebAssembly.Module(countInstructions(bytes) as Uint8Array<ArrayBuffer>));
  const metered = await WasmModule.compile(bytes);
  for (const n of [1, 2, 1025, 5000]) {
    (oracle.exports[COUNT_EXPORT] as WebAssembly.Global).value = 0n;
    const expected = (oracle.exports.run as (x: number) => number)(n);
    const executed = (oracle.exports[COUNT_EXPORT] as WebAssembly.Global).value as bigint;
    const r = await metered.invokeWith({ wasi: false, limits: { fuel: Infinity, timeoutMs: 30_000 } }, 'run', n);
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.equal(r.result![0], expected, 'metering changed the result');
    assert.ok(BigInt(r.usage.fuel) >= executed, `run(${n}): charged ${r.usage.fuel} for ${executed} instructions`);
  }

  // 16M iterations (seconds of CPU): stopped on fuel within an iteration of the budget.
  const stopped = await metered.invokeWith({ wasi: false, limits: { fuel: 50_000, timeoutMs: 60_000 } }, 'run', 1 << 24);
  assert.equal(stopped.error?.kind, 'fuel', JSON.stringify(stopped.error));
  assert.ok(stopped.usage.fuel <= 50_000 + 200, `fuel ${stopped.usage.fuel}`);
});
