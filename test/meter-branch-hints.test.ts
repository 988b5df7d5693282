// The meter's checks are hinted unlikely (src/instrument/branch-hints.ts): in the MicroPython build
// every `if` whose arm is only the call of the fuel import carries a hint, and every hint names such
// a check's `if` (read back from the section, independently of the code that wrote it); a guest's
// `if` that merely holds a check is not hinted; and a hinted module computes and charges the same as
// the unhinted one, with V8 reading the hints (the flag is this test process's own).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../src/engine/abi.js';
import { readUleb } from '../src/engine/wasm-binary.js';
import { BRANCH_HINT_SECTION, hintFuelChecks } from '../src/instrument/branch-hints.js';
import { decodeBodies } from '../src/instrument/decoded-code.js';
import { Kind } from '../src/instrument/instructions.js';
import { watToBinary } from '../src/instrument/load.js';
import { instrumentBinary, meterTrustedBinary } from '../src/instrument/meter.js';
import { readSections, SectionId } from '../src/instrument/sections.js';

setFlagsFromString('--experimental-wasm-branch-hinting');

/** The hints of a module's section: defined function index (among the defined) -> offsets hinted unlikely. */
function readHints(bytes: Uint8Array): Map<number, number[]> {
  const m = readSections(bytes, true);
  const s = m.sections.find((x) => x.id === SectionId.Custom && x.name === BRANCH_HINT_SECTION);
  const out = new Map<number, number[]>();
  if (!s) return out;
  let at = readUleb(bytes, s.start).next; // the name's length...
  at += readUleb(bytes, s.start).value; // ...and the name
  const read = () => {
    const r = readUleb(bytes, at);
    at = r.next;
    return r.value;
  };
  let previous = -1;
  for (let f = read(); f > 0; f--) {
    const func = read() - m.funcImports;
    assert.ok(func > previous, 'functions in increasing order');
    previous = func;
    const offsets: number[] = [];
    for (let k = read(); k > 0; k--) {
      offsets.push(read());
      assert.equal(read(), 1, 'a hint is one byte');
      assert.equal(bytes[at++], 0, 'hinted unlikely');
      if (offsets.length > 1) assert.ok(offsets.at(-1)! > offsets.at(-2)!, 'offsets in increasing order');
    }
    out.set(func, offsets);
  }
  assert.equal(at, s.end, 'the section ends with its last hint');
  const code = m.sections.find((x) => x.id === SectionId.Code)!;
  assert.ok(s.end <= code.start, 'the hints come before the code section');
  return out;
}

/** Per defined function: the body's start and its `if`s as [offset in the body, arm is only a call of `exhausted`]. */
function ifsOf(bytes: Uint8Array): { bodyStart: number; ifs: [number, boolean][] }[] {
  const m = readSections(bytes, true);
  const exhausted = m.imports.filter((i) => i.kind === 0).findIndex((i) => i.module === HOST_IMPORT_MODULE && i.name === FUEL_EXHAUSTED_IMPORT);
  const code = m.sections.find((x) => x.id === SectionId.Code)!;
  const n = readUleb(bytes, code.start);
  const d = decodeBodies(bytes, n.next, code.end, n.value, true);
  const out = [];
  let at = n.next;
  for (let f = 0; f < n.value; f++) {
    const size = readUleb(bytes, at);
    at = size.next + size.value;
    const ifs: [number, boolean][] = [];
    for (let i = d.first[f]; i < d.first[f + 1]; i++) {
      if (d.kinds[i] !== Kind.If) continue;
      const onlyCheck = d.kinds[i + 1] === Kind.Call && d.indices[i + 1] === exhausted && d.kinds[i + 2] === Kind.End;
      ifs.push([d.starts[i] - size.next, onlyCheck]);
    }
    out.push({ bodyStart: size.next, ifs });
  }
  return out;
}

test('every check of the MicroPython build is hinted unlikely, and every hint is on an if holding a check', () => {
  const bytes = new Uint8Array(readFileSync(new URL('../wasm/pyfence.wasm', import.meta.url)));
  const hints = readHints(bytes);
  let checks = 0;
  let hinted = 0;
  for (const [f, { ifs }] of ifsOf(bytes).entries()) {
    const offsets = new Set(hints.get(f) ?? []);
    const ifAt = new Set(ifs.map(([o]) => o));
    for (const o of offsets) assert.ok(ifAt.has(o), `function ${f}: hint at ${o} is not on an if`);
    for (const [o, onlyCheck] of ifs) {
      if (!onlyCheck) continue;
      checks++;
      assert.ok(offsets.has(o), `function ${f}: the check at ${o} is not hinted`);
    }
    hinted += offsets.size;
  }
  assert.ok(checks > 1000, `${checks} checks`);
  assert.ok(hinted >= checks, `${hinted} hints for ${checks} checks`);
  const unmetered = new Uint8Array(readFileSync(new URL('../wasm/pyfence-unmetered.wasm', import.meta.url)));
  assert.equal(readHints(unmetered).size, 0, 'the unmetered build has no checks to hint');
});

// In $run, three guest `if`s hold checks and are none: one around a loop (its header checks), one
// around an import's call (checked before it), one with an else whose arm throws (checked before it).
const GUEST = `(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (tag $e)
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2)) (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $run (export "run") (param $n i32) (result i32) (local $i i32) (local $x i32)
    (if (i32.gt_u (local.get $n) (i32.const 5))
      (then (loop $l
        (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.mul (local.get $n) (i32.const 1000)))))))
    (if (i32.gt_u (local.get $n) (i32.const 3)) (then (local.set $x (i32.add (local.get $x) (call $f (local.get $n))))))
    (if (i32.gt_u (local.get $n) (i32.const 1000))
      (then (throw $e))
      (else (local.set $x (i32.add (local.get $x) (i32.const 7)))))
    (i32.add (local.get $x) (call $fib (i32.const 12)))))`;

function run(bytes: Uint8Array, n: number): { result: number; fuel: number } {
  let given = 1 << 30;
  let used = 0;
  let global: WebAssembly.Global | undefined;
  const exhausted = () => {
    used += given - global!.value;
    global!.value = given = 1 << 20;
  };
  const imports = { env: { f: (x: number) => x * 2 }, [HOST_IMPORT_MODULE]: { [FUEL_EXHAUSTED_IMPORT]: exhausted } };
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), imports);
  global = inst.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global;
  global.value = given;
  const result = (inst.exports.run as (n: number) => number)(n);
  return { result, fuel: used + given - global.value };
}

test("a guest's if around a check is not hinted; hinted, a module computes and charges the same", async () => {
  const metered = meterTrustedBinary(await watToBinary(GUEST)).bytes;
  const { bytes, hints } = hintFuelChecks(metered);
  assert.ok(hints > 0);
  const hinted = readHints(bytes);
  const runFn = 1; // $fib is 0
  for (const [f, { ifs }] of ifsOf(bytes).entries()) {
    const offsets = hinted.get(f) ?? [];
    const checks = ifs.filter(([, onlyCheck]) => onlyCheck).map(([o]) => o);
    if (f === runFn) assert.ok(ifs.length > checks.length + 3, 'the guest ifs are there');
    // The loop's header `if` holds a settle and its check: hinted too. Nothing else.
    for (const o of offsets) if (!checks.includes(o)) assert.equal(f, runFn, `function ${f}: hint at ${o}`);
    assert.ok(offsets.length <= checks.length + (f === runFn ? 1 : 0), `function ${f}: ${offsets.length} hints for ${checks.length} checks`);
    for (const o of checks) assert.ok(offsets.includes(o), `function ${f}: the check at ${o} is not hinted`);
  }
  for (const n of [0, 2, 4, 6, 9]) assert.deepEqual(run(bytes, n), run(metered, n), `run(${n})`);
  assert.ok(run(bytes, 9).fuel > 9000, 'the loop was charged');
});

/** `bytes` without its branch hint section. */
function withoutHints(bytes: Uint8Array): Uint8Array {
  const kept: number[] = [...bytes.subarray(0, 8)];
  for (let p = 8; p < bytes.length; ) {
    const size = readUleb(bytes, p + 1);
    const end = size.next + size.value;
    const name = readUleb(bytes, size.next);
    const isHints = bytes[p] === SectionId.Custom && new TextDecoder().decode(bytes.subarray(name.next, name.next + name.value)) === BRANCH_HINT_SECTION;
    if (!isHints) kept.push(...bytes.subarray(p, end));
    p = end;
  }
  return new Uint8Array(kept);
}

test("a guest module's checks are hinted when it is instrumented, as the build's scan of finished code finds them", () => {
  for (const name of ['fs_probe', 'fs_tricks', 'entry_flood']) {
    const original = new Uint8Array(readFileSync(new URL(`./fixtures/wasm/${name}.wasm`, import.meta.url)));
    const { bytes, meta } = instrumentBinary(original);
    assert.equal(meta.denied, undefined);
    const hints = readHints(bytes);
    assert.ok(hints.size > 10, `${name}: ${hints.size} functions hinted`);
    const scanned = readHints(hintFuelChecks(withoutHints(bytes)).bytes);
    assert.deepEqual(hints, scanned, name);
    assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>));
  }
});
