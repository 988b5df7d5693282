// Replaces gc_collect's body (which only sets the pending flag) with a real collection that also
// scans the C shadow stack [sp, stackBase). gc_collect_root is inlined into gc_collect_start in this
// binary (no standalone copy), so the C stack is scanned by calling gc_collect_start once with the
// pystack range temporarily pointed at the C stack, then once normally. The mark-stack overflow flag
// that the first call may set is reset by the second call's start, so it is saved and OR-ed back.
import binaryen from 'binaryen';
import { children } from '../../../build/walk.js';
import type { Module } from '../../../build/wasm-inspect.js';
import { findGcFunctions } from './find-gc.js';

const info = (e: number) => binaryen.getExpressionInfo(e) as any;
function all(expr: number): number[] {
  const out: number[] = []; const st = [expr];
  while (st.length) { const e = st.pop()!; out.push(e); st.push(...children(e).reverse()); } // pre-order, source order
  return out;
}
const constAddr = (load: any) =>
  binaryen.getExpressionId(load.ptr) === binaryen.ConstId ? info(load.ptr).value + load.offset : NaN;

export interface GcLayout { pystackStart: number; pystackCur: number; overflow: number }

/** Finds pystack_start/cur (gc_collect_start: len = (load cur - load start) >> 2) and gc_stack_overflow. */
export function findGcLayout(m: Module, start: string, end: string): GcLayout {
  const body = binaryen.getFunctionInfo(m.getFunction(start)).body;
  const subs = all(body).filter((e) => binaryen.getExpressionId(e) === binaryen.BinaryId && info(e).op === binaryen.SubInt32);
  const found: [number, number][] = [];
  for (const s of subs) {
    const { left, right } = info(s);
    const l = binaryen.getExpressionId(left) === binaryen.LoadId ? constAddr(info(left)) : NaN;
    let r = right;
    if (binaryen.getExpressionId(r) === binaryen.LocalSetId) r = info(r).value; // local.tee
    const ra = binaryen.getExpressionId(r) === binaryen.LoadId ? constAddr(info(r)) : NaN;
    if (!isNaN(l) && !isNaN(ra) && l - ra === 8) found.push([ra, l]);
  }
  if (found.length !== 1) throw new Error(`pystack range: ${JSON.stringify(found)}`);
  // overflow flag: the address gc_collect_start zeroes and that some callee of it (gc_mark_subtree) sets to 1
  const zeroed = all(body).filter((e) => binaryen.getExpressionId(e) === binaryen.StoreId && info(e).bytes === 4
    && binaryen.getExpressionId(info(e).value) === binaryen.ConstId && info(info(e).value).value === 0).map((e) => constAddr(info(e)));
  const callees = new Set(all(body).filter((e) => binaryen.getExpressionId(e) === binaryen.CallId).map((e) => info(e).target as string));
  const setToOne = new Set<number>();
  for (const c of callees) {
    for (const e of all(binaryen.getFunctionInfo(m.getFunction(c)).body)) {
      if (binaryen.getExpressionId(e) === binaryen.StoreId && binaryen.getExpressionId(info(e).value) === binaryen.ConstId && info(info(e).value).value === 1) setToOne.add(constAddr(info(e)));
    }
  }
  const ov = zeroed.filter((a) => setToOne.has(a));
  if (ov.length !== 1) throw new Error(`overflow flag: ${zeroed} / ${[...setToOne]}`);
  void end;
  return { pystackStart: found[0][0], pystackCur: found[0][1], overflow: ov[0] };
}

export function replaceGcCollect(m: Module, sp: string, stackBase: number) {
  const g = findGcFunctions(m);
  const lay = findGcLayout(m, g.gcCollectStart, g.gcCollectEnd);
  const i32 = binaryen.i32;
  const ld = (a: number) => m.i32.load(0, 4, m.i32.const(a));
  const st = (a: number, v: number) => m.i32.store(0, 4, m.i32.const(a), v);
  const PS = 0, PC = 1, OV = 2;
  const body = m.block(null, [
    m.local.set(PS, ld(lay.pystackStart)),
    m.local.set(PC, ld(lay.pystackCur)),
    st(lay.pystackStart, m.global.get(sp, i32)),
    st(lay.pystackCur, m.i32.const(stackBase)),
    m.call(g.gcCollectStart, [], binaryen.none),
    m.local.set(OV, ld(lay.overflow)),
    st(lay.pystackStart, m.local.get(PS, i32)),
    st(lay.pystackCur, m.local.get(PC, i32)),
    m.call(g.gcCollectStart, [], binaryen.none),
    st(lay.overflow, m.i32.or(ld(lay.overflow), m.local.get(OV, i32))),
    m.call(g.gcCollectEnd, [], binaryen.none),
  ]);
  m.removeFunction(g.gcCollect);
  m.addFunction(g.gcCollect, binaryen.none, binaryen.none, [i32, i32, i32], body);
  return { ...g, ...lay };
}
