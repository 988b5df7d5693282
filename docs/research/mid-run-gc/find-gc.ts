// Locates the GC functions structurally (no names in the binary). See REPORT.md.
import binaryen from 'binaryen';
import { exportedFunction, definedFunctionNames, type Module } from '../../../build/wasm-inspect.js';
import { children } from '../../../build/walk.js';

export interface GcFunctions {
  depthDec: string; // external_call_depth_dec
  pendingAddr: number; // address of the bool gc_collect_pending
  gcCollect: string; // gc_collect: pending = 1
  gcCollectStart: string;
  gcCollectEnd: string;
  gcMarkSubtree: string; // gc_mark_subtree(area, block); gc_collect_root itself is inlined
}

function all(expr: number): number[] {
  const out: number[] = [];
  const st = [expr];
  while (st.length) { const e = st.pop()!; out.push(e); st.push(...children(e).reverse()); } // pre-order, source order
  return out;
}
const info = (e: number) => binaryen.getExpressionInfo(e) as any;

export function findGcFunctions(m: Module): GcFunctions {
  // external_call_depth_dec: the body of exported mp_js_do_exec calls it through invoke_v(table index)
  // (setjmp), as its last invoke; it has no params/results, and is shaped
  //   depth = depth - 1; if (!depth && pending8) { pending8 = 0; call A; call B }
  const candidates: GcFunctions[] = [];
  for (const name of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    if (f.params !== binaryen.none || f.results !== binaryen.none) continue;
    const nodes = all(f.body);
    if (nodes.length > 40) continue;
    const calls = nodes.filter((e) => binaryen.getExpressionId(e) === binaryen.CallId);
    const store8 = nodes.filter((e) => binaryen.getExpressionId(e) === binaryen.StoreId && info(e).bytes === 1);
    const load8 = nodes.filter((e) => binaryen.getExpressionId(e) === binaryen.LoadId && info(e).bytes === 1);
    if (calls.length !== 2 || store8.length !== 1 || load8.length !== 1) continue;
    const s = info(store8[0]); const l = info(load8[0]);
    const addr = (e: any) => (binaryen.getExpressionId(e.ptr) === binaryen.ConstId ? info(e.ptr).value : NaN) + e.offset;
    if (addr(s) !== addr(l) || info(s.value).value !== 0) continue;
    const [a, b] = calls.map((c) => info(c).target as string);
    if (info(calls[0]).operands.length || info(calls[1]).operands.length) continue;
    candidates.push({ depthDec: name, pendingAddr: addr(s), gcCollect: '', gcCollectStart: a, gcCollectEnd: b, gcMarkSubtree: '' });
  }
  // must be the function invoke_v'd by mp_js_do_exec; check that it is in the table (cheap sanity)
  if (candidates.length !== 1) throw new Error(`external_call_depth_dec: ${candidates.length} candidates`);
  const g = candidates[0];
  // gc_collect: () -> (), body is exactly: store8 [pendingAddr] = 1
  const collects: string[] = [];
  for (const name of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    if (f.params !== binaryen.none || f.results !== binaryen.none) continue;
    const nodes = all(f.body).filter((e) => binaryen.getExpressionId(e) !== binaryen.BlockId);
    if (nodes.length !== 3) continue;
    const st = nodes.find((e) => binaryen.getExpressionId(e) === binaryen.StoreId);
    if (!st) continue;
    const s = info(st);
    if (s.bytes === 1 && binaryen.getExpressionId(s.ptr) === binaryen.ConstId && info(s.ptr).value + s.offset === g.pendingAddr
      && binaryen.getExpressionId(s.value) === binaryen.ConstId && info(s.value).value === 1) collects.push(name);
  }
  if (collects.length !== 1) throw new Error(`gc_collect: ${collects.length} candidates`);
  g.gcCollect = collects[0];
  // gc_collect_root(ptrs, len) is inlined into gc_collect_start (twice: root pointers + pystack); each
  // inlined copy calls gc_mark_subtree(area, block): the one 2-arg callee called exactly twice
  const start = binaryen.getFunctionInfo(m.getFunction(g.gcCollectStart));
  const targets = new Map<string, number>();
  for (const e of all(start.body)) {
    if (binaryen.getExpressionId(e) !== binaryen.CallId) continue;
    const c = info(e);
    if (c.operands.length === 2) targets.set(c.target, (targets.get(c.target) ?? 0) + 1);
  }
  const roots = [...targets].filter(([, n]) => n === 2).map(([t]) => t);
  if (roots.length !== 1) throw new Error(`gc_mark_subtree: candidates ${[...targets]}`);
  g.gcMarkSubtree = roots[0];
  // sanity: depthDec must be called via the table by mp_js_do_exec's invoke; report only
  void exportedFunction(m, 'mp_js_do_exec');
  return g;
}
