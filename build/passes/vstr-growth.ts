// MicroPython's growable strings (vstr, behind str.join, formatting, json.dumps, print to a buffer)
// grow by 16 bytes when full: `new_alloc = ROUND_ALLOC(len + size + 16)`, compiled as
// `((len + size) & -8) + 24`. Each step is a gc_realloc, which first walks every block of the
// buffer, so building an n-byte string costs O(n^2 / 16): json.dumps of a 50 KB document spent a
// third of its time there. This makes the step proportional to the size, `x + x/2` for `x = len + size`:
// the same bytes, fewer reallocations; the final string is shrunk to its length as before.
import binaryen from 'binaryen';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import { BinaryNode } from '../binaryen-extra.js';

export function growStringsGeometrically(m: Module): { function: string } {
  const sites: { fn: string; and: number; x: number }[] = [];
  for (const fn of definedFunctionNames(m)) {
    for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(fn)).body)) {
      // An allocation size handed to a call: local.tee(add(and(local.get x, -8), 24)).
      if (kind(e) !== binaryen.CallId) continue;
      for (const arg of info(e).operands as number[]) {
        if (kind(arg) !== binaryen.LocalSetId) continue;
        const add = info(arg).value;
        if (kind(add) !== binaryen.BinaryId || info(add).op !== binaryen.AddInt32 || !isConst(info(add).right, 24)) continue;
        const and = info(add).left;
        if (kind(and) !== binaryen.BinaryId || info(and).op !== binaryen.AndInt32 || !isConst(info(and).right, -8)) continue;
        const x = info(and).left;
        if (kind(x) !== binaryen.LocalGetId) continue;
        sites.push({ fn, and, x });
      }
    }
  }
  if (sites.length !== 1) throw new Error(`vstr growth: expected one ROUND_ALLOC(len + size + 16) passed to a realloc, found ${sites.length}`);
  const { fn, and, x } = sites[0];
  const local = () => m.local.get(info(x).index, binaryen.i32);
  BinaryNode.setLeft(and, m.i32.add(local(), m.i32.shr_u(local(), m.i32.const(1))));
  return { function: fn };
}
