// CPython 3.14 stops C recursion (RecursionError; the trashcan in _Py_Dealloc defers freeing) by
// comparing the shadow stack pointer with limits. But V8 runs the functions on its native stack, where
// a level of recursion takes far more than its share of shadow stack: 300 bytes against none for
// deallocation (a list nested 400,000 deep overflowed V8's stack where python3 frees any depth), 375
// against 16 for ==, 4.8 KiB against 480 for Python code called from C. Here the functions each such
// recursion passes through once a level take shadow stack around each call, so that the shadow stack
// counts what the native stack takes and the limits (src/guests/cpython/stack-limits.ts) hold on both.
import binaryen from 'binaryen';
import { exportedFunction, stackPointerGlobal, type Module } from '../wasm-inspect.js';
import { FunctionNode } from '../binaryen-extra.js';

/** Extra shadow stack per call, by exported function (measured native stack per level, in V8 on Node 20). */
export const SHADOW_FRAMES: Readonly<Record<string, number>> = {
  _Py_Dealloc: 160, // deallocation: each level frees one object
  PyObject_Repr: 128, // repr and str of containers
  PyObject_RichCompare: 128, // == of containers
  _PyEval_EvalFrameDefault: 1024, // Python code called from C (__repr__, __eq__, callbacks)
};

/** f(args) becomes `sp -= N; r = f$unframed(args); sp += N; r`; returns the functions framed. */
export function frameRecursion(m: Module): string[] {
  const sp = stackPointerGlobal(m);
  return Object.entries(SHADOW_FRAMES).map(([exported, bytes]) => {
    const name = exportedFunction(m, exported);
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
