// The collector's small inner loops (gc_collect_end, with the overflow rescan, gc_mark_subtree and
// gc_sweep inlined into it by the optimizer) run millions of short rounds a collection: the test of
// which heap area a word points into (almost always one round), the count of a block's tail blocks,
// the walk over a block's words, the sweep's walk over blocks. The meter charges a loop at its header
// (an add, a compare and a branch each round), which on such loops was about as much as the round's
// own work: the collector took ~1.7x its unmetered time on strbuild.
//
// This peels one round off each such loop and unrolls the rest by two, so the header runs once per
// two rounds and not at all for a loop that ends in its first:
//
//   block $exit
//     block $peel   B[br $L -> br $peel]    br $exit  end     ;; round 1, outside the loop
//     loop $L
//       block $again B[br $L -> br $again] br $exit  end     ;; rounds 2, 4, ...
//       B                                                    ;; rounds 3, 5, ...
//     end
//   end
//
// B is the loop's body: a `br $L` in it starts the next round, falling off its end leaves the loop,
// so each copy does exactly what one round of the loop did, and the code runs the same instructions
// in the same order (plus a branch a round). Outputs, heap layout and id()s are unchanged. It is done
// before the module is metered: the meter charges every copy's instructions where they run like any
// other code, so fuel stays sound (charged >= executed) and deterministic; it only changes where the
// charges are added up.
//
// Only void loops whose body (with its own inner loops already treated) has at most MAX_BODY_NODES
// expressions, no exception handling and no calls: the collector's leaf loops and the loop over a
// block's words; the code grows by a few KB.
import binaryen from 'binaryen';
import { BlockNode, LoopNode } from '../binaryen-extra.js';
import { type Module } from '../wasm-inspect.js';
import { children, expressions, info, kind } from '../walk.js';

export interface GcLoopUnrollReport {
  function: string;
  /** Loops peeled once and unrolled by two. */
  loops: number;
}

/** A treated loop's body has three copies in the result: this bounds the growth. */
const MAX_BODY_NODES = 160;
/** gc_collect_end in MicroPython 1.27 after -O3: the area test, the tail count, the word walk, the sweep's block walks. */
const EXPECTED_MIN_LOOPS = 4;

const IfNode = binaryen.If as unknown as { setIfTrue(e: number, c: number): void; setIfFalse(e: number, c: number): void };
const BreakName = binaryen.Break as unknown as { setName(e: number, n: string): void };
const SwitchNames = binaryen.Switch as unknown as { setNameAt(e: number, i: number, n: string): void; setDefaultName(e: number, n: string): void };
const LabelSetter = { block: binaryen.Block as unknown as { setName(e: number, n: string): void }, loop: binaryen.Loop as unknown as { setName(e: number, n: string): void } };

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
      (k === binaryen.BlockId ? LabelSetter.block : LabelSetter.loop).setName(e, `${name}${suffix}`);
    }
  }
  const to = (n: string) => renamed.get(n) ?? n;
  for (const e of nodes) {
    if (kind(e) === binaryen.BreakId) BreakName.setName(e, to(info(e).name));
    else if (kind(e) === binaryen.SwitchId) {
      (info(e).names as string[]).forEach((n, i) => SwitchNames.setNameAt(e, i, to(n)));
      SwitchNames.setDefaultName(e, to(info(e).defaultName));
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

export function unrollCollectorLoops(m: Module, gcCollectEnd: string): GcLoopUnrollReport {
  const fn = m.getFunction(gcCollectEnd);
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
    const name = info(loop).name as string;
    done.add(name);
    const parent = parents.get(loop);
    const replace = parent === undefined ? null : replacer(parent, loop);
    if (!replace) continue;
    const body = info(loop).body as number;
    const k = treated;
    const exit = `${name}$unroll_exit`;
    const peel = `${name}$unroll_peel`;
    const again = `${name}$unroll_again`;
    const first = m.block(peel, [copyRound(m, body, name, peel, `$p${k}`, done), m.br(exit)]);
    const second = m.block(again, [copyRound(m, body, name, again, `$a${k}`, done), m.br(exit)]);
    LoopNode.setBody(loop, m.block(null, [second, body], binaryen.none));
    replace(m.block(exit, [first, loop], binaryen.none));
    treated++;
  }
  if (treated < EXPECTED_MIN_LOOPS) throw new Error(`gc loop unroll: expected at least ${EXPECTED_MIN_LOOPS} small loops in gc_collect_end, treated ${treated}`);
  return { function: gcCollectEnd, loops: treated };
}
