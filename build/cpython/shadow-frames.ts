// CPython 3.14 stops C recursion (RecursionError; the trashcan in _Py_Dealloc defers freeing) by
// comparing the shadow stack pointer with limits. But V8 runs the functions on its native stack, where
// a level of recursion takes far more than its share of shadow stack: 300 bytes against none for
// deallocation (a list nested 400,000 deep overflowed V8's stack where python3 frees any depth), 375
// against 16 for ==, 4.8 KiB against 480 for Python code called from C, 1.1 KiB against 176 for
// pickle. Here the functions each such recursion passes through once a level take shadow stack around
// each call, so that the shadow stack counts what the native stack takes and the limits
// (src/guests/cpython/stack-limits.ts) hold on both. Exported functions are found by name; static
// ones (no names in the module) as the one function using their recursion check's text.
import binaryen from 'binaryen';
import { exportedFunction, stackPointerGlobal, type Module } from '../wasm-inspect.js';
import { FunctionNode } from '../binaryen-extra.js';
import { expressions, info, kind } from '../walk.js';
import { readSleb32 } from '../../src/engine/wasm-binary.js';
import { Cursor, readSections, SectionId } from '../../src/instrument/sections.js';

/** Extra shadow stack per call, by exported function (measured native stack per level, in V8 on Node 20). */
export const SHADOW_FRAMES: Readonly<Record<string, number>> = {
  _Py_Dealloc: 160, // deallocation: each level frees one object
  PyObject_Repr: 128, // repr and str of containers
  PyObject_RichCompare: 128, // == of containers
  _PyEval_EvalFrameDefault: 1024, // Python code called from C (__repr__, __eq__, callbacks)
};

/**
 * Extra shadow stack per call for static C functions, named by the `where` text of the recursion
 * check they make (the one function that uses that text's address).
 */
export const SHADOW_FRAMES_BY_CHECK: Readonly<Record<string, number>> = {
  ' while pickling an object': 256, // _pickle's save()
};

/** The address of `text` (NUL-terminated) in the module's active data; throws unless found once. */
function dataAddress(input: Uint8Array, text: string): number {
  const needle = Buffer.from(text + '\0');
  const found: number[] = [];
  for (const section of readSections(input, true).sections) {
    if (section.id !== SectionId.Data) continue;
    const c = new Cursor(input, section.start, section.end);
    for (let n = c.u32(); n > 0; n--) {
      const flags = c.u32();
      let base = NaN; // a passive segment (flags 1) has no address
      if (flags === 0 && input[c.at] === 0x41 /* i32.const */) {
        const offset = readSleb32(input, c.at + 1);
        base = offset.value;
        c.at = offset.next + 1; // end
      } else if (flags !== 1) throw new Error(`cpython: data segment flags ${flags}`);
      const length = c.u32();
      const bytes = Buffer.from(input.buffer, input.byteOffset + c.at, length);
      for (let k = bytes.indexOf(needle); k !== -1 && !Number.isNaN(base); k = bytes.indexOf(needle, k + 1)) found.push(base + k);
      c.at += length;
    }
  }
  if (found.length !== 1) throw new Error(`cpython: ${JSON.stringify(text)} is in the data ${found.length} times, not once`);
  return found[0];
}

/** The defined functions whose code holds the constant `value`. */
function functionsUsing(m: Module, values: ReadonlySet<number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (f.module || !f.body) continue;
    for (const e of expressions(f.body)) {
      if (kind(e) !== binaryen.ConstId || info(e).type !== binaryen.i32 || !values.has(info(e).value)) continue;
      const list = out.get(info(e).value) ?? [];
      if (!list.includes(f.name)) list.push(f.name);
      out.set(info(e).value, list);
    }
  }
  return out;
}

/** The functions to frame: exported ones by name, static ones by the check text they use. */
function framedFunctions(m: Module, input: Uint8Array): [name: string, bytes: number][] {
  const byName = Object.entries(SHADOW_FRAMES).map(([exported, bytes]): [string, number] => [exportedFunction(m, exported), bytes]);
  const addresses = new Map(Object.keys(SHADOW_FRAMES_BY_CHECK).map((text) => [dataAddress(input, text), text]));
  const users = functionsUsing(m, new Set(addresses.keys()));
  const byCheck = [...addresses].map(([address, text]): [string, number] => {
    const fns = users.get(address) ?? [];
    if (fns.length !== 1) throw new Error(`cpython: ${fns.length} functions use ${JSON.stringify(text)}, not one`);
    return [fns[0], SHADOW_FRAMES_BY_CHECK[text]];
  });
  return [...byName, ...byCheck];
}

/** f(args) becomes `sp -= N; r = f$unframed(args); sp += N; r`; returns the functions framed. */
export function frameRecursion(m: Module, input: Uint8Array): string[] {
  const sp = stackPointerGlobal(m);
  return framedFunctions(m, input).map(([name, bytes]) => {
    const info = binaryen.getFunctionInfo(m.getFunction(name));
    const params = binaryen.expandType(info.params);
    const inner = `${name}$unframed`;
    m.addFunction(inner, info.params, info.results, info.vars, info.body);
    const move = (op: (a: number, b: number) => number) => m.global.set(sp, op(m.global.get(sp, binaryen.i32), m.i32.const(bytes)));
    const call = m.call(inner, params.map((t, i) => m.local.get(i, t)), info.results);
    const fn = m.getFunction(name);
    let body;
    if (info.results === binaryen.none) body = m.block(null, [move(m.i32.sub), call, move(m.i32.add)], binaryen.none);
    else {
      const result = FunctionNode.addVar(fn, info.results);
      body = m.block(null, [move(m.i32.sub), m.local.set(result, call), move(m.i32.add), m.local.get(result, info.results)], info.results);
    }
    FunctionNode.setBody(fn, body);
    return name;
  });
}
