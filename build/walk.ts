// A walker over binaryen expressions for the build's passes. binaryen.js has no generic child
// iterator, so children are listed per node kind; an unknown kind stops the build.
import binaryen from 'binaryen';
import { makeChildren } from '../src/instrument/walk.js';

/** The children of any expression, per kind (src/instrument/walk.ts: one table for build and load time). */
export const children = makeChildren(binaryen);

/** `expr` and every expression under it, in source order. */
export function expressions(expr: number): number[] {
  const out: number[] = [];
  const stack = [expr];
  while (stack.length) {
    const e = stack.pop()!;
    out.push(e);
    stack.push(...children(e).reverse());
  }
  return out;
}

/** An expression's fields (binaryen.js's per-kind info objects, loosely typed). */
export const info = (e: number) => binaryen.getExpressionInfo(e) as unknown as Record<string, any>;
export const kind = (e: number) => binaryen.getExpressionId(e);
export const isConst = (e: number, value: number) => kind(e) === binaryen.ConstId && info(e).value === value;
/** `local.get local`. */
export const isGet = (e: number, local: number) => kind(e) === binaryen.LocalGetId && info(e).index === local;
/** The value a `local.tee` passes on, or `e` itself when it is no tee. */
export const teeOf = (e: number) => (kind(e) === binaryen.LocalSetId && info(e).isTee ? info(e).value : e);

/** The constant address of a load or store (pointer constant plus offset), or NaN. */
export function constAddress(e: number): number {
  const i = info(e);
  return kind(i.ptr) === binaryen.ConstId ? info(i.ptr).value + i.offset : NaN;
}
