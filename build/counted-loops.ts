// Recognises counted leaf loops — `for (p = a; p < end; p++) h = h * 33 ^ *p;` and the like — whose
// trip count is known when the loop is entered, so their fuel can be charged once, before the loop,
// instead of on every iteration. These tiny loops (hashing, UTF-8 scanning, copying) are where a
// per-iteration check costs most.
//
// A loop qualifies only when all of these hold (anything else keeps per-iteration metering):
// - its body ends in `br_if $loop (lt_u|gt_u X (local.get $n))` and nothing else branches to $loop;
// - X is `$i` or `(local.tee $i (i32.add (local.get $i) (i32.const k)))`, with 1 <= |k| <= 64 and the
//   sign of k matching the comparison (ascending for lt_u, descending for gt_u);
// - the only write of $i in the loop is that one increment, executed on every iteration (not under
//   any branch), and $n is never written in the loop;
// - $i is used in a memory address inside the loop, so the trip count is bounded by memory size.
import binaryen from 'binaryen';
import { children } from './walk.js';

type Info = Record<string, unknown>;
const info = (e: number) => binaryen.getExpressionInfo(e) as unknown as Info;
const id = (e: number) => binaryen.getExpressionId(e);

export interface CountedLoop {
  induction: number;
  bound: number;
  /** Absolute step. */
  step: number;
  ascending: boolean;
}

/** `(i32.add (local.get $i) (i32.const k))` → k, else null. */
function stepOf(expr: number, local: number): number | null {
  if (id(expr) !== binaryen.BinaryId || info(expr).op !== binaryen.AddInt32) return null;
  const { left, right } = info(expr) as { left: number; right: number };
  if (id(left) !== binaryen.LocalGetId || info(left).index !== local) return null;
  if (id(right) !== binaryen.ConstId) return null;
  return info(right).value as number;
}

function isIncrementOf(set: number, local: number): number | null {
  const s = info(set) as { index: number; value: number };
  return s.index === local ? stepOf(s.value, local) : null;
}

function subtree(expr: number): number[] {
  const out: number[] = [];
  const stack = [expr];
  while (stack.length) {
    const e = stack.pop()!;
    out.push(e);
    stack.push(...children(e));
  }
  return out;
}

/** Expressions evaluated on every pass through `stmts`, i.e. not under any branching construct. */
function unconditional(stmts: number[]): Set<number> {
  const out = new Set<number>();
  const stack = [...stmts];
  while (stack.length) {
    const e = stack.pop()!;
    out.add(e);
    const k = id(e);
    if (k === binaryen.IfId) stack.push((info(e) as { condition: number }).condition);
    else if (k === binaryen.BlockId || k === binaryen.LoopId || k === binaryen.TryId) continue;
    else stack.push(...children(e));
  }
  return out;
}

export function matchCountedLoop(loop: number): CountedLoop | null {
  const label = info(loop).name as string;
  const body = info(loop).body as number;
  const stmts = id(body) === binaryen.BlockId ? ((info(body).children as number[]) ?? []) : [body];
  if (stmts.length === 0) return null;
  const last = stmts[stmts.length - 1];
  if (id(last) !== binaryen.BreakId) return null;
  const br = info(last) as { name: string; condition: number; value: number };
  if (br.name !== label || !br.condition || br.value) return null;
  if (id(br.condition) !== binaryen.BinaryId) return null;
  const cmp = info(br.condition) as { op: number; left: number; right: number };
  const ascending = cmp.op === binaryen.LtUInt32;
  if (!ascending && cmp.op !== binaryen.GtUInt32) return null;
  if (id(cmp.right) !== binaryen.LocalGetId) return null;
  const bound = info(cmp.right).index as number;

  let induction: number;
  if (id(cmp.left) === binaryen.LocalGetId) induction = info(cmp.left).index as number;
  else if (id(cmp.left) === binaryen.LocalSetId) induction = info(cmp.left).index as number;
  else return null;
  if (induction === bound) return null;

  const all = subtree(body);
  let step: number | null = null;
  let writes = 0;
  const always = unconditional(stmts);
  for (const e of all) {
    const k = id(e);
    if (k === binaryen.BreakId && e !== last && info(e).name === label) return null;
    if (k === binaryen.SwitchId) {
      const sw = info(e) as { names: string[]; defaultName: string };
      if (sw.defaultName === label || sw.names.includes(label)) return null;
    }
    if (k === binaryen.LocalSetId) {
      const target = info(e).index as number;
      if (target === bound) return null;
      if (target === induction) {
        writes++;
        step = isIncrementOf(e, induction);
        if (step === null || !always.has(e)) return null;
      }
    }
  }
  if (writes !== 1 || step === null) return null;
  if (ascending ? step < 1 || step > 64 : step > -1 || step < -64) return null;

  // The induction variable must address memory, bounding the trip count by the memory's size.
  const addressesMemory = all.some((e) => {
    const k = id(e);
    if (k !== binaryen.LoadId && k !== binaryen.StoreId) return false;
    return subtree(info(e).ptr as number).some(
      (p) => (id(p) === binaryen.LocalGetId || id(p) === binaryen.LocalSetId) && info(p).index === induction,
    );
  });
  if (!addressesMemory) return null;
  return { induction, bound, step: Math.abs(step), ascending };
}
