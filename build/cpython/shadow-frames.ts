// CPython 3.14 stops C recursion (RecursionError; the trashcan in _Py_Dealloc defers freeing) by
// comparing the shadow stack pointer with limits. But V8 runs the functions on its native stack, where
// a level of recursion takes far more than its share of shadow stack: 265 bytes against none for
// deallocation (a list nested 400,000 deep overflowed V8's stack where python3 frees any depth), 400
// against 35 for == of dicts, 4.3 KiB against 490 for Python code called from C (the eval loop's
// frame in TurboFan's code; 1.4 KiB in Liftoff's), 395 against 115 for json.dumps of dicts. Here the
// functions each such recursion passes through once a level take shadow stack around each call, so
// that a level takes as much shadow stack as native stack, and the limits
// (src/guests/cpython/stack-limits.ts) are in bytes of both. Measured on Node 20 with --stack-size
// 900 and 1900 (bytes a level = the difference over the difference of the deepest levels that ran),
// default tiering and --liftoff-only, the larger kept, with the frames in place (the call into
// `$unframed` is a native frame of its own). Exported functions are found by name; static
// ones (no names in the module) as the one function using their recursion check's text.
import binaryen from 'binaryen';
import { exportedFunction, stackPointerGlobal, type Module } from '../wasm-inspect.js';
import { FunctionNode } from '../binaryen-extra.js';
import { expressions, info, kind } from '../walk.js';
import { dataAddress } from './data-image.js';

/**
 * Extra shadow stack per call, by exported function: the native stack a level of the recursion takes
 * in V8 on Node 20 (the most of Liftoff's and TurboFan's code) less the shadow stack it takes itself.
 */
export const SHADOW_FRAMES: Readonly<Record<string, number>> = {
  _Py_Dealloc: 272, // deallocation: each level frees one object (265 native, no shadow)
  PyObject_Repr: 288, // repr and str of containers (dicts: 326 native, 38 shadow; lists 297, 33)
  PyObject_RichCompare: 384, // == of containers (dicts: 400 native, 35 shadow; lists 389, 17)
  _PyEval_EvalFrameDefault: 3584, // Python code called from C: __repr__, __eq__, callbacks (a __repr__ level: 4285 native, 486 shadow besides repr's frame)
};

/**
 * Extra shadow stack per call for static C functions, named by the `where` text of the recursion
 * check they make (the one function that uses that text's address).
 */
export const SHADOW_FRAMES_BY_CHECK: Readonly<Record<string, number>> = {
  ' while pickling an object': 144, // _pickle's save() (dicts: 297 native, 163 shadow; lists 253, 179)
  ' while encoding a JSON object': 304, // _json's encoder_listencode_obj (dicts: 410 native, 115 shadow; lists 265, 49)
  ' while decoding a JSON array from a unicode string': 384, // _json's scan_once_unicode (objects: 402 native, 18 shadow; arrays 285, 16)
  ' in __instancecheck__': 176, // isinstance() of nested tuples of classes (178 native, 4 shadow)
};

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
