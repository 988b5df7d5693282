// The collector's loops run millions of short rounds a collection. In gc_collect_end (the optimizer
// inlines the mark-stack overflow rescan, gc_mark_subtree and gc_sweep into it): the test of which
// heap area a word points into (almost always one round), the count of a block's tail blocks, the
// walk over a block's words, the mark of one popped block, the sweep's walk over blocks. The meter
// charges a loop at its header (an add, a compare and a branch each round), which on such a loop is
// about as much as the round's own work: on strbuild the collector took ~1.7x its unmetered time,
// where 96f4678's meter, which did not charge these loops, took ~1x.
//
// This peels one round off each such loop and unrolls the rest by two, so the header runs once per
// two rounds, and not at all for a loop that ends in its first round:
//
//   block $exit
//     block $peel   B[br $L -> br $peel]    br $exit  end     ;; round 1, outside the loop
//     loop $L
//       block $again B[br $L -> br $again] br $exit  end     ;; rounds 2, 4, ...
//       B                                                    ;; rounds 3, 5, ...
//     end
//   end
//
// B is the loop's body: a `br $L` in it starts the next round and falling off its end leaves the
// loop, so each copy does exactly what one round did, and the function runs the same instructions
// in the same order (plus one branch a round): outputs, heap layout and id()s are unchanged. It runs
// before the meter, which charges every copy's instructions where they run like any other code, so
// fuel stays sound (charged >= executed, K = 1) and deterministic, and the deadline is still checked
// at least every LOOP_BATCH units: only where the charges are added up moves.
//
// Innermost loops first; a loop is treated when it yields no value, its body (inner loops treated
// already) has at most MAX_BODY_NODES expressions, and it calls nothing (a call is a check of its
// own), has no exception handling (whose labels this does not rename) and no return; binaryen's
// clean-up passes then fold the added blocks and branches. In MicroPython 1.27 after -O3 that is 7
// loops of gc_collect_end, the rescan's walk over every block included (its body holds the whole
// mark: about 1% of strbuild's time), and the module grows by about 14 KB. gc_alloc's loops, treated
// the same way, measured no faster (its rounds are few a call, and the function larger).
import binaryen from 'binaryen';
import { BlockNode, BreakNode, IfNode, LoopNode, SwitchNode } from '../binaryen-extra.js';
import { type Module } from '../wasm-inspect.js';
import { children, expressions, info, kind } from '../walk.js';

export interface GcLoopUnrollReport {
  /** Loops peeled once and unrolled by two, by function (internal names). */
  loops: Record<string, number>;
}

/** A treated loop's body has three copies in the result: this bounds the growth (the rescan's walk, with the whole mark in it, has ~1,600). */
const MAX_BODY_NODES = 3000;
/** Each function given must have at least this many (gc_collect_end has 7): else the build stops. */
const EXPECTED_MIN_LOOPS = 4;
/** binaryen passes that fold the copies' blocks and branches into the code around them (fewer instructions to charge). */
const CLEAN_UP = ['remove-unused-brs', 'remove-unused-names', 'merge-blocks', 'vacuum'];
/** No calls (a call is a check of its own), no exception handling (its labels are not renamed), no return. */
const FORBIDDEN = new Set([binaryen.TryId, binaryen.ThrowId, binaryen.RethrowId, binaryen.CallId, binaryen.CallIndirectId, binaryen.ReturnId]);

/** A copy of `body` whose own labels are renamed (suffix) and whose branches to `loop` go to `target`. */
function copyRound(m: Module, body: number, loop: string, target: string, suffix: string, done: Set<string>): number {
  const copy = m.copyExpression(body);
  const renamed = new Map<string, string>([[loop, target]]);
  const nodes = expressions(copy);
  for (const e of nodes) {
    const k = kind(e);
    const name = k === binaryen.BlockId || k === binaryen.LoopId ? (info(e).name as string | null) : null;
    if (name) {
      renamed.set(name, `${name}${suffix}`);
      if (k === binaryen.LoopId) done.add(`${name}${suffix}`); // a copy of a loop treated already, or one too big
      (k === binaryen.BlockId ? BlockNode : LoopNode).setName(e, `${name}${suffix}`);
    }
  }
  const to = (n: string) => renamed.get(n) ?? n;
  for (const e of nodes) {
    if (kind(e) === binaryen.BreakId) BreakNode.setName(e, to(info(e).name));
    else if (kind(e) === binaryen.SwitchId) {
      (info(e).names as string[]).forEach((n, i) => SwitchNode.setNameAt(e, i, to(n)));
      SwitchNode.setDefaultName(e, to(info(e).defaultName));
    }
  }
  return copy;
}

/** How to put another statement where `child` is under `parent` (a block, an if's arm or a loop); null under anything else. */
function replacer(parent: number, child: number): ((next: number) => void) | null {
  const k = kind(parent);
  if (k === binaryen.BlockId) {
    const i = (info(parent).children as number[]).indexOf(child);
    return (next) => BlockNode.setChildAt(parent, i, next);
  }
  if (k === binaryen.IfId && info(parent).ifTrue === child) return (next) => IfNode.setIfTrue(parent, next);
  if (k === binaryen.IfId && info(parent).ifFalse === child) return (next) => IfNode.setIfFalse(parent, next);
  if (k === binaryen.LoopId) return (next) => LoopNode.setBody(parent, next);
  return null;
}

function eligible(loop: number): boolean {
  if (binaryen.getExpressionType(loop) !== binaryen.none || !info(loop).name) return false;
  const body = expressions(info(loop).body);
  return body.length <= MAX_BODY_NODES && !body.some((e) => FORBIDDEN.has(kind(e)));
}

export function unrollCollectorLoops(m: Module, functions: string[]): GcLoopUnrollReport {
  const loops: Record<string, number> = {};
  for (const f of functions) {
    loops[f] = peelAndUnrollLoops(m, f);
    m.runPassesOnFunction(f, CLEAN_UP);
    if (loops[f] < EXPECTED_MIN_LOOPS) throw new Error(`gc loop unroll: expected at least ${EXPECTED_MIN_LOOPS} small loops in ${f}, treated ${loops[f]}`);
  }
  return { loops };
}

/** Treats `name`'s eligible loops, innermost first; returns how many. */
function peelAndUnrollLoops(m: Module, name: string): number {
  const fn = m.getFunction(name);
  const done = new Set<string>();
  let treated = 0;
  for (;;) {
    const root = binaryen.getFunctionInfo(fn).body;
    const parents = new Map<number, number>();
    for (const e of expressions(root)) for (const c of children(e)) parents.set(c, e);
    // Innermost first: a loop none of whose inner loops is still to be treated.
    const pending = expressions(root).filter((e) => kind(e) === binaryen.LoopId && !done.has(info(e).name) && eligible(e));
    const loop = pending.find((l) => !expressions(info(l).body).some((e) => e !== l && pending.includes(e)));
    if (loop === undefined) break;
    const label = info(loop).name as string;
    done.add(label);
    const parent = parents.get(loop);
    const replace = parent === undefined ? null : replacer(parent, loop);
    if (!replace) continue;
    const body = info(loop).body as number;
    const k = treated;
    const exit = `${label}$unroll_exit`;
    const peel = `${label}$unroll_peel`;
    const again = `${label}$unroll_again`;
    const first = m.block(peel, [copyRound(m, body, label, peel, `$p${k}`, done), m.br(exit)]);
    const second = m.block(again, [copyRound(m, body, label, again, `$a${k}`, done), m.br(exit)]);
    LoopNode.setBody(loop, m.block(null, [second, body], binaryen.none));
    replace(m.block(exit, [first, loop], binaryen.none));
    treated++;
  }
  return treated;
}

