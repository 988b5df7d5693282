// The meter is sound (src/instrument/meter.ts): for random valid modules, the fuel a run is charged
// is at least the number of instructions it executed (K = 1), counted by an independent oracle that
// adds 1 to a counter before every instruction (test/support/count-instructions.ts); the metered
// module computes the same result. PYFENCE_PROPERTY_RUNS=N runs more modules (default 60).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasmModule } from '../src/api/wasm-module.js';
import { BULK_BYTES_PER_UNIT, BULK_CHUNK_BYTES, CALL_UNITS, FLAT_MAX_PATH, instrumentBinary } from '../src/instrument/meter.js';
import { watToBinary } from '../src/instrument/load.js';
import { COUNT_EXPORT, countInstructions } from './support/count-instructions.js';
import { randomModule } from './support/random-module.js';

const RUNS = Number(process.env.PYFENCE_PROPERTY_RUNS ?? 60);
const FIRST_SEED = Number(process.env.PYFENCE_PROPERTY_SEED ?? 1);

/**
 * Runs `run(arg)` in the counting oracle and metered: the same result, and fuel charged >= the
 * instructions the oracle counted. Returns the metered module for more runs.
 */
async function assertChargedAtLeastExecuted(bytes: Uint8Array<ArrayBuffer>, arg: number, label = ''): Promise<{ metered: WasmModule; executed: bigint }> {
  const oracle = new WebAssembly.Instance(new WebAssembly.Module(countInstructions(bytes) as Uint8Array<ArrayBuffer>));
  const expected = (oracle.exports.run as (x: number) => number)(arg);
  const executed = (oracle.exports[COUNT_EXPORT] as WebAssembly.Global).value as bigint;
  const metered = await WasmModule.compile(bytes);
  const r = await metered.invokeWith({ wasi: false, limits: { fuel: Infinity, timeoutMs: 30_000 } }, 'run', arg);
  assert.ok(r.ok, `${label}${JSON.stringify(r.error)}`);
  assert.equal(r.result![0], expected, `${label}metering changed the result`);
  assert.ok(BigInt(r.usage.fuel) >= executed, `${label}charged ${r.usage.fuel} for ${executed} instructions`);
  return { metered, executed };
}

test(`fuel charged >= instructions executed, on ${RUNS} random modules`, { timeout: 60_000 + RUNS * 1_000 }, async () => {
  let instructions = 0n;
  for (let seed = FIRST_SEED; seed < FIRST_SEED + RUNS; seed++) {
    const bytes = randomModule(seed) as Uint8Array<ArrayBuffer>;
    assert.ok(WebAssembly.validate(bytes), `seed ${seed}: the generator made an invalid module`);
    const { executed } = await assertChargedAtLeastExecuted(bytes, seed & 0xff, `seed ${seed}: `);
    instructions += executed;
  }
  assert.ok(instructions > 10_000n, 'the modules ran something');
});

test('the oracle counts what runs: a loop of n iterations executes a fixed count per iteration', () => {
  // (func (param i32) (result i32) (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (local.get 0))
  const body = [0x00, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b];
  const module = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00,
    0x0a, body.length + 2, 0x01, body.length, ...body,
  ]);
  const run = (n: number) => {
    const o = new WebAssembly.Instance(new WebAssembly.Module(countInstructions(module) as Uint8Array<ArrayBuffer>));
    (o.exports.run as (x: number) => number)(n);
    return Number((o.exports[COUNT_EXPORT] as WebAssembly.Global).value);
  };
  // loop, then 6 per iteration (get, const, sub, tee, br_if, end once), then local.get
  assert.equal(run(10) - run(5), 5 * 5);
  const { meta } = instrumentBinary(module);
  assert.equal(meta.report.loopChecks, 1);
  assert.ok(BULK_BYTES_PER_UNIT > 0);
});

test('chunked memory.fill and memory.copy keep their meaning: overlaps both ways, out of bounds traps', async () => {
  const size = 3 * BULK_CHUNK_BYTES;
  const pages = (size >> 16) + 1;
  // Fill with a pattern, copy 2.5 chunks up by 1,000 bytes and down by 777 (memmove both ways), then a
  // checksum of the whole memory; "oob" fills past the end: a trap.
  const wat = `(module (memory ${pages})
    (func $sum (result i32) (local $i i32) (local $h i32)
      (loop $l
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const ${size}))))
      (local.get $h))
    (func (export "run") (result i32) (local $i i32)
      (loop $l
        (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 7)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 70000))))
      (memory.fill (i32.const 70000) (i32.const 9) (i32.const ${BULK_CHUNK_BYTES + 12345}))
      (memory.copy (i32.const 1000) (i32.const 0) (i32.const ${(BULK_CHUNK_BYTES * 5) / 2}))
      (memory.copy (i32.const 3) (i32.const 780) (i32.const ${(BULK_CHUNK_BYTES * 5) / 2}))
      (call $sum))
    (func (export "oob") (result i32)
      (i32.store8 (i32.const 0) (i32.const 1))
      (memory.fill (i32.const 0) (i32.const 2) (i32.const ${pages * 65536 + 1}))
      (i32.load8_u (i32.const 0))))`;
  const plain = new WebAssembly.Instance(new WebAssembly.Module((await watToBinary(wat)) as Uint8Array<ArrayBuffer>));
  const expected = (plain.exports.run as () => number)();
  const metered = await WasmModule.compile(wat);
  const r = await metered.invokeWith({ wasi: false }, 'run');
  assert.ok(r.ok, JSON.stringify(r.error));
  assert.equal(r.result![0], expected);
  assert.ok(r.usage.fuel >= (BULK_CHUNK_BYTES * 6) / BULK_BYTES_PER_UNIT, `fuel ${r.usage.fuel}`);
  assert.throws(() => (plain.exports.oob as () => number)(), WebAssembly.RuntimeError);
  const oob = await metered.invokeWith({ wasi: false }, 'oob');
  assert.equal(oob.error?.kind, 'fault', JSON.stringify(oob.error));
});

test('a small function without loops but with calls is charged whole at entry: direct, indirect and recursive', async () => {
  // $mid has no loop: it is charged its whole count at entry, and its calls (direct, through the
  // table, of itself) settle nothing; each callee charges its own instructions.
  const wat = `(module
    (type $t (func (param i32) (result i32)))
    (table 2 funcref) (elem (i32.const 0) $leaf $mid)
    (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 3)))
    (func $mid (param i32) (result i32)
      (if (result i32) (i32.gt_s (local.get 0) (i32.const 0))
        (then (i32.add (call $leaf (local.get 0))
                       (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1))))
        (else (call_indirect (type $t) (local.get 0) (i32.const 0)))))
    (func (export "run") (param i32) (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $mid (i32.and (local.get $i) (i32.const 15)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $s)))`;
  const bytes = (await watToBinary(wat)) as Uint8Array<ArrayBuffer>;
  const { meta } = instrumentBinary(bytes);
  assert.equal(meta.report.entryChecks, 2, 'both $leaf and $mid are charged at entry');
  const { metered } = await assertChargedAtLeastExecuted(bytes, 5000);
  // A descent through it checks in every frame: a deep recursion stops on fuel, well before the stack.
  const deep = await metered.invokeWith({ wasi: false, limits: { fuel: 2_000, timeoutMs: 30_000 } }, 'run', 1);
  assert.ok(deep.ok);
  const recursion = await WasmModule.compile(`(module
    (func $down (param i32) (result i32)
      (if (result i32) (local.get 0) (then (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))) (else (i32.const 0))))
    (func (export "run") (result i32) (call $down (i32.const 1000000))))`);
  const stopped = await recursion.invokeWith({ wasi: false, limits: { fuel: 20_000, timeoutMs: 30_000 } }, 'run');
  assert.equal(stopped.error?.kind, 'fuel', JSON.stringify(stopped.error));
  assert.ok(stopped.usage.fuel <= 20_000 + 64, `fuel ${stopped.usage.fuel}`);
});

test('a short memory.fill or memory.copy runs in place, charged by its length; a long one in chunks', async () => {
  // 1,000 copies of 4,000 bytes (overlapping, both ways) and fills: in place, each charged 500 units.
  const wat = `(module (memory 1)
    (func (export "run") (result i32) (local $i i32) (local $h i32)
      (loop $l
        (memory.fill (i32.const 100) (local.get $i) (i32.const 4000))
        (memory.copy (i32.const 101) (i32.const 100) (i32.const 4000))
        (memory.copy (i32.const 99) (i32.add (i32.const 100) (i32.and (local.get $i) (i32.const 7))) (i32.const 4000))
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (i32.load (i32.add (i32.const 99) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
      (local.get $h))
    (func (export "oob") (result i32)
      (i32.store8 (i32.const 0) (i32.const 1))
      (memory.fill (i32.const 0) (i32.const 2) (i32.const 65537))
      (i32.load8_u (i32.const 0))))`;
  const bytes = (await watToBinary(wat)) as Uint8Array<ArrayBuffer>;
  const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const metered = await WasmModule.compile(bytes);
  const r = await metered.invokeWith({ wasi: false, limits: { fuel: Infinity, timeoutMs: 30_000 } }, 'run');
  assert.ok(r.ok, JSON.stringify(r.error));
  assert.equal(r.result![0], (plain.exports.run as () => number)());
  assert.ok(r.usage.fuel >= (1000 * 3 * 4000) / BULK_BYTES_PER_UNIT, `fuel ${r.usage.fuel}`);
  const oob = await metered.invokeWith({ wasi: false }, 'oob');
  assert.equal(oob.error?.kind, 'fault', JSON.stringify(oob.error));
  // Out of fuel before a short copy runs: the charge comes first.
  const short = await metered.invokeWith({ wasi: false, limits: { fuel: 100_000 } }, 'run');
  assert.equal(short.error?.kind, 'fuel', JSON.stringify(short.error));
});

test('a bigger function without loops is charged its longest path at entry, through every kind of branch', async () => {
  // $wide holds about 330 instructions, more than FLAT_MAX_UNITS, but no run of it passes more than
  // 179 (<= FLAT_MAX_PATH): it is charged at entry (no settle before a call, none at exit), by its
  // longest path, which must follow br_table, br, br_if, both arms of an if and a return to be the
  // longest. run(x) calls $wide(x) 64 times: each x takes one path, and each path is charged at
  // least what it runs.
  const step = '(local.set 1 (i32.add (local.get 1) (i32.const 1)))';
  const steps = (n: number) => step.repeat(n);
  const wat = `(module
    (func $wide (param i32) (result i32) (local i32)
      (block $out
        (block $b2
          (block $b1
            (block $b0
              (br_table $b0 $b1 $b2 $out (i32.and (local.get 0) (i32.const 3))))
            ${steps(30)}
            (br $out))
          ${steps(2)}
          (if (i32.and (local.get 0) (i32.const 4)) (then ${steps(25)}) (else ${steps(5)}))
          (br_if $out (i32.and (local.get 0) (i32.const 8)))
          ${steps(3)})
        (if (i32.and (local.get 0) (i32.const 16)) (then (return (i32.const 7))))
        ${steps(8)})
      (local.get 1))
    (func (export "run") (param i32) (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $wide (local.get 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 64))))
      (local.get $s)))`;
  const bytes = (await watToBinary(wat)) as Uint8Array<ArrayBuffer>;
  const { meta } = instrumentBinary(bytes);
  assert.equal(meta.report.entryChecks, 1, '$wide is charged at entry');
  assert.equal(meta.report.callSettles, 1, 'only run settles before its call');
  let longest = 0n;
  for (const x of [0, 1, 2, 3, 1 | 4, 1 | 4 | 8, 1 | 8, 1 | 16, 2 | 16, 1 | 4 | 16]) {
    const { executed } = await assertChargedAtLeastExecuted(bytes, x, `$wide(${x}): `);
    if (executed > longest) longest = executed;
  }
  assert.ok(longest > 64n * 179n, 'some argument takes the longest path');
  // Charged its longest path (179; 212 an iteration with the call and the loop's own), not its whole
  // count (about 330).
  const metered = await WasmModule.compile(bytes);
  const r = await metered.invokeWith({ wasi: false, limits: { fuel: Infinity } }, 'run', 0);
  assert.ok(179 <= FLAT_MAX_PATH);
  assert.ok(r.usage.fuel < 64 * 300, `fuel ${r.usage.fuel}`);
});

test('a leaf only called directly is charged by its callers; one also in a table charges itself', async () => {
  const wat = `(module
    (type $t (func (param i32) (result i32)))
    (table 1 funcref) (elem (i32.const 0) $tabled)
    (func $direct (param i32) (result i32)
      (if (result i32) (i32.and (local.get 0) (i32.const 1))
        (then (i32.mul (local.get 0) (i32.const 3))) (else (i32.shr_u (local.get 0) (i32.const 1)))))
    (func $tabled (param i32) (result i32) (i32.xor (local.get 0) (i32.const 0x55)))
    (func $both (param i32) (result i32)
      (i32.add (call $direct (local.get 0)) (call $tabled (local.get 0))))
    (func (export "run") (param i32) (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $direct (local.get $i))))
        (local.set $s (i32.add (local.get $s) (call $both (local.get $i))))
        (local.set $s (i32.add (local.get $s) (call_indirect (type $t) (local.get $i) (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $s)))`;
  const bytes = (await watToBinary(wat)) as Uint8Array<ArrayBuffer>;
  const { meta } = instrumentBinary(bytes);
  assert.equal(meta.report.callerCharged, 1, '$direct is charged by its callers');
  assert.equal(meta.report.entryChecks, 2, '$tabled and $both are charged at entry');
  const { metered } = await assertChargedAtLeastExecuted(bytes, 20_000);
  const stopped = await metered.invokeWith({ wasi: false, limits: { fuel: 50_000, timeoutMs: 30_000 } }, 'run', 1 << 30);
  assert.equal(stopped.error?.kind, 'fuel', JSON.stringify(stopped.error));
});

test('a call costs CALL_UNITS, direct or through the table, whatever the callee charges itself', async () => {
  // 10,000 iterations, each a direct and an indirect call of a one-instruction function.
  const metered = await WasmModule.compile(`(module
    (type $t (func (result i32)))
    (table 1 funcref) (elem (i32.const 0) $one)
    (func $one (result i32) (i32.const 1))
    (func (export "run") (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (i32.add (call $one) (call_indirect (type $t) (i32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))
      (local.get $s)))`);
  const r = await metered.invokeWith({ wasi: false, limits: { fuel: Infinity } }, 'run');
  assert.equal(r.result![0], 20_000);
  assert.ok(CALL_UNITS > 1);
  assert.ok(r.usage.fuel >= 10_000 * 2 * CALL_UNITS, `fuel ${r.usage.fuel}`);
  assert.ok(r.usage.fuel < 10_000 * (2 * CALL_UNITS + 40), `fuel ${r.usage.fuel}`);
});
