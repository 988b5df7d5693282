// Recognises counted loops — `for (p = a; p < end; p++) h = h * 33 ^ *p;` and the like — whose trip
// count is bounded by values known when the loop is entered, so their fuel can be charged once, before
// the loop, instead of on every iteration. Tiny loops (hashing, UTF-8 scanning, table searches) are
// where a per-iteration check costs most. Calls and nested loops inside stay metered on their own.
//
// A loop qualifies only when all of these hold (anything else keeps per-iteration metering):
// - its iteration test is either its last statement `br_if $loop (X op $n)`, with no other branch
//   back to $loop, or its first statement `br_if $out (X op $n)` leaving the loop, with X = tee $i;
// - the relation is unsigned (<, <=, >, >=) in the direction of the step, or != with a step of 1;
// - the only write of $i in the loop is `$i = $i + k` (1 <= |k| <= 64), executed on every iteration,
//   and $n is never written in the loop;
// - $i is used in a memory address on every iteration, so the trip count is bounded by memory size;
// - nothing else leaves the loop (no return, no branch out): a search that stops early would be
//   overcharged by its bound.
import binaryen from 'binaryen';
import { children, expressions, info, kind as id } from './walk.js';

export interface CountedLoop {
  induction: number;
  bound: number;
  /** Absolute step. */
  step: number;
  ascending: boolean;
  /** `i != n` loops: the distance wraps rather than being clamped at 0. */
  wrapping: boolean;
}

/** The relation under which the loop goes on, for a comparison `X op n`. */
const CONTINUE: Record<number, 'asc' | 'desc' | 'ne'> = {
  [binaryen.LtUInt32]: 'asc',
  [binaryen.LeUInt32]: 'asc',
  [binaryen.GtUInt32]: 'desc',
  [binaryen.GeUInt32]: 'desc',
  [binaryen.NeInt32]: 'ne',
};
/** The same for an exit test `br_if $out (X op n)`: the loop goes on under the negated relation. */
const CONTINUE_AFTER_EXIT: Record<number, 'asc' | 'desc' | 'ne'> = {
  [binaryen.GeUInt32]: 'asc',
  [binaryen.GtUInt32]: 'asc',
  [binaryen.LeUInt32]: 'desc',
  [binaryen.LtUInt32]: 'desc',
  [binaryen.EqInt32]: 'ne',
};

/** `(i32.add (local.get $i) (i32.const k))` → k, else null. */
function stepOf(expr: number, local: number): number | null {
  if (id(expr) !== binaryen.BinaryId || info(expr).op !== binaryen.AddInt32) return null;
  const { left, right } = info(expr) as { left: number; right: number };
  if (id(left) !== binaryen.LocalGetId || info(left).index !== local) return null;
  if (id(right) !== binaryen.ConstId) return null;
  return info(right).value as number;
}

const branchesTo = (e: number, label: string): boolean => {
  const k = id(e);
  if (k === binaryen.BreakId) return info(e).name === label;
  if (k !== binaryen.SwitchId) return false;
  const sw = info(e) as { names: string[]; defaultName: string };
  return sw.defaultName === label || sw.names.includes(label);
};

/**
 * Expressions evaluated on every iteration that goes on to the next. A branch out of the body leaves
 * the loop, so the body's statements run in order up to the first one that can branch back to the
 * header; within each, a block's first child, an if's condition and all operands are evaluated.
 */
function executedEveryIteration(stmts: number[], label: string): Set<number> {
  const reached: number[] = [];
  for (const st of stmts) {
    reached.push(st);
    if (expressions(st).some((e) => branchesTo(e, label))) break;
  }
  const out = new Set<number>();
  const stack = reached;
  while (stack.length) {
    const e = stack.pop()!;
    out.add(e);
    const k = id(e);
    if (k === binaryen.IfId) stack.push((info(e) as { condition: number }).condition);
    else if (k === binaryen.BlockId) stack.push(...((info(e).children as number[]) ?? []).slice(0, 1));
    else if (k === binaryen.LoopId || k === binaryen.TryId) continue;
    else stack.push(...children(e));
  }
  return out;
}

interface Test {
  /** The br_if holding the test. */
  node: number;
  relation: 'asc' | 'desc' | 'ne';
  left: number;
  right: number;
}

/**
 * The loop's iteration test, in one of two shapes:
 * - it ends in `br_if $loop (X op n)` and nothing else branches back to $loop;
 * - it starts with `br_if $out (X op n)` leaving the loop, with X incrementing $i: every iteration,
 *   however it branches back, first advances $i and tests it.
 */
function iterationTest(label: string, stmts: number[], all: number[]): Test | null {
  const asBreak = (e: number) => {
    if (id(e) !== binaryen.BreakId) return null;
    const br = info(e) as { name: string; condition: number; value: number };
    if (!br.condition || br.value || id(br.condition) !== binaryen.BinaryId) return null;
    return { name: br.name, cmp: info(br.condition) as { op: number; left: number; right: number } };
  };
  const last = asBreak(stmts[stmts.length - 1]);
  if (last && last.name === label && CONTINUE[last.cmp.op]) {
    if (all.filter((e) => branchesTo(e, label)).length === 1) {
      return { node: stmts[stmts.length - 1], relation: CONTINUE[last.cmp.op], left: last.cmp.left, right: last.cmp.right };
    }
  }
  const first = asBreak(stmts[0]);
  if (first && first.name !== label && CONTINUE_AFTER_EXIT[first.cmp.op] && id(first.cmp.left) === binaryen.LocalSetId) {
    return { node: stmts[0], relation: CONTINUE_AFTER_EXIT[first.cmp.op], left: first.cmp.left, right: first.cmp.right };
  }
  return null;
}

/**
 * Whether the loop can be left other than by its iteration test: a return, or a branch to a label
 * outside it. Such loops (searches) usually stop long before their bound, so charging the bound up
 * front would overcharge them.
 */
function hasEarlyExit(label: string, body: number, all: number[], test: number): boolean {
  const inner = new Set<string>([label]); // a branch to the loop's own label goes round again
  for (const e of all) {
    const k = id(e);
    if (e !== body && (k === binaryen.BlockId || k === binaryen.LoopId) && info(e).name) inner.add(info(e).name as string);
  }
  return all.some((e) => {
    const k = id(e);
    if (k === binaryen.ReturnId) return true;
    if (k === binaryen.BreakId) return e !== test && !inner.has(info(e).name as string);
    if (k !== binaryen.SwitchId) return false;
    const sw = info(e) as { names: string[]; defaultName: string };
    return [...sw.names, sw.defaultName].some((n) => !inner.has(n));
  });
}

export function matchCountedLoop(loop: number): CountedLoop | null {
  const label = info(loop).name as string;
  const body = info(loop).body as number;
  const stmts = id(body) === binaryen.BlockId ? ((info(body).children as number[]) ?? []) : [body];
  if (stmts.length === 0) return null;
  const all = expressions(body);
  const test = iterationTest(label, stmts, all);
  if (!test || id(test.right) !== binaryen.LocalGetId) return null;
  if (hasEarlyExit(label, body, all, test.node)) return null;
  const bound = info(test.right).index as number;
  const k = id(test.left);
  if (k !== binaryen.LocalGetId && k !== binaryen.LocalSetId) return null;
  const induction = info(test.left).index as number;
  if (induction === bound) return null;

  // The only write of $i is one increment on every iteration; $n is never written.
  const always = executedEveryIteration(stmts, label);
  const writes = all.filter((e) => id(e) === binaryen.LocalSetId && [induction, bound].includes(info(e).index as number));
  if (writes.length !== 1 || info(writes[0]).index !== induction || !always.has(writes[0])) return null;
  const step = stepOf(info(writes[0]).value as number, induction);
  if (step === null || step === 0 || Math.abs(step) > 64) return null;
  const ascending = step > 0;
  if (test.relation === 'asc' ? !ascending : test.relation === 'desc' ? ascending : Math.abs(step) !== 1) return null;

  // The induction variable must address memory on every iteration: stepping through addresses, the
  // loop traps at the end of memory at the latest, so its trip count is bounded by the memory's size.
  const addressesMemory = [...always].some((e) => {
    const kind = id(e);
    if (kind !== binaryen.LoadId && kind !== binaryen.StoreId) return false;
    return expressions(info(e).ptr as number).some(
      (p) => (id(p) === binaryen.LocalGetId || id(p) === binaryen.LocalSetId) && info(p).index === induction,
    );
  });
  if (!addressesMemory) return null;
  return { induction, bound, step: Math.abs(step), ascending, wrapping: test.relation === 'ne' };
}
