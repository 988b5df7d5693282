// A str index is a count of UTF-8 characters, so MicroPython turns `s.find(x, start)`, `s[i]` and
// slices into byte pointers by walking from the start of the string one character at a time: for each
// character, skip the byte and then any continuation bytes (0x80-0xBF). On ASCII text that is one
// loop round trip per byte, with a fuel check on each, and finding every occurrence of a word in a
// 60 KB text walks it from the start each time.
//
// This adds a first step to that walk: while at least eight characters remain to skip, the next eight
// bytes are ASCII and lie before the end of the string, move eight bytes and eight characters at
// once. That is exactly what eight rounds of the walk do (each ASCII byte is one character, no bound
// check or end of count is reached on the way), so the result and every exit are unchanged; the rest
// (non-ASCII text, the last characters) goes through the original walk.
//
// Found by structure: a loop whose body counts down `i` (leaving when it was 0), skips one character
// with an inner loop `do { c = (signed) s[1]; s++ } while (c < -64)`, and goes round while `s < top`.
import binaryen from 'binaryen';
import { LoopNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, isGet, kind } from '../walk.js';

export interface Utf8IndexReport {
  /** Functions whose character walk got the eight-byte step. */
  functions: string[];
}

const isSet = (e: number) => kind(e) === binaryen.LocalSetId;
const isBinary = (e: number, op: number) => kind(e) === binaryen.BinaryId && info(e).op === op;
const childrenOf = (e: number) => (kind(e) === binaryen.BlockId ? (info(e).children as number[]) : [e]);

/** `loop { c = load8_s offset=1 (s); s = tee t (s + 1); br_if loop (c < -64) }`: { s, t, the set of c }. */
function continuationSkip(loop: number): { s: number; t: number; setC: number } | null {
  const body = childrenOf(info(loop).body);
  if (body.length !== 3) return null;
  const [load, step, test] = body;
  if (!isSet(load) || info(load).isTee) return null;
  const l = info(load).value;
  if (kind(l) !== binaryen.LoadId || info(l).bytes !== 1 || !info(l).isSigned || info(l).offset !== 1) return null;
  if (kind(info(l).ptr) !== binaryen.LocalGetId) return null;
  const s = info(info(l).ptr).index as number;
  if (!isSet(step) || info(step).isTee || info(step).index !== s) return null;
  const tee = info(step).value;
  if (!isSet(tee) || !info(tee).isTee || !isBinary(info(tee).value, binaryen.AddInt32)) return null;
  if (!isGet(info(info(tee).value).left, s) || !isConst(info(info(tee).value).right, 1)) return null;
  if (kind(test) !== binaryen.BreakId || info(test).name !== info(loop).name || !info(test).condition) return null;
  const c = info(test).condition;
  if (!isBinary(c, binaryen.LtSInt32) || !isGet(info(c).left, info(load).index) || !isConst(info(c).right, -64)) return null;
  return { s, t: info(tee).index as number, setC: load };
}

interface Walk {
  body: number;
  /** Character count left to skip. */
  i: number;
  s: number;
  top: number;
}

/**
 * The walk's loop: its body holds `br_if $exit (i == 0)`, the continuation skip, `i = i - 1` (via a
 * tee of `i + -1` earlier in the body) and ends in `br_if $loop (t < top)`; nothing else writes i, s,
 * t or top, and nothing else branches back.
 */
function characterWalk(loop: number): Walk | null {
  const body = info(loop).body;
  const stmts = childrenOf(body);
  const inner = stmts.filter((e) => kind(e) === binaryen.LoopId);
  if (inner.length !== 1) return null;
  const skip = continuationSkip(inner[0]);
  if (!skip) return null;
  const isZeroTest = (c: number) => kind(c) === binaryen.UnaryId && info(c).op === binaryen.EqZInt32;
  const exits = stmts.filter((e) => kind(e) === binaryen.BreakId && info(e).condition && isZeroTest(info(e).condition));
  if (exits.length !== 1 || kind(info(info(exits[0]).condition).value) !== binaryen.LocalGetId) return null;
  const i = info(info(info(exits[0]).condition).value).index as number;
  const back = stmts[stmts.length - 1];
  if (kind(back) !== binaryen.BreakId || info(back).name !== info(loop).name || !info(back).condition) return null;
  const cond = info(back).condition;
  if (!isBinary(cond, binaryen.LtUInt32) || !isGet(info(cond).left, skip.t) || kind(info(cond).right) !== binaryen.LocalGetId) return null;
  const top = info(info(cond).right).index as number;
  if (new Set([i, skip.s, skip.t, top]).size !== 4) return null;

  const all = expressions(body);
  if (all.filter((e) => kind(e) === binaryen.BreakId && info(e).name === info(loop).name).length !== 1) return null;
  const writes = (local: number) => all.filter((e) => isSet(e) && info(e).index === local);
  // i: one write, `i = d` where d was set once as a tee of i + -1 (the skip may use i's local for c).
  const iw = writes(i).filter((e) => e !== skip.setC);
  if (iw.length !== 1 || kind(info(iw[0]).value) !== binaryen.LocalGetId) return null;
  const d = info(info(iw[0]).value).index as number;
  const dw = writes(d);
  if (dw.length !== 1 || !isBinary(info(dw[0]).value, binaryen.AddInt32)) return null;
  if (!isGet(info(info(dw[0]).value).left, i) || !isConst(info(info(dw[0]).value).right, -1)) return null;
  // s: written in the skip and by `s = t` after it; t only in the skip; top never.
  const sw = writes(skip.s);
  if (sw.length !== 2 || !sw.some((e) => isGet(info(e).value, skip.t))) return null;
  if (writes(skip.t).length !== 1 || writes(top).length !== 0) return null;
  if (all.some((e) => kind(e) === binaryen.CallId || kind(e) === binaryen.CallIndirectId)) return null;
  return { body, i, s: skip.s, top };
}

const ASCII_MASK = 0x8080808080808080n;
/** binaryen.js 132 takes one bigint for an i64 constant; its type declarations still say (low, high). */
const i64 = (m: Module, v: bigint) => (m.i64.const as unknown as (v: bigint) => number)(BigInt.asIntN(64, v));

/** `while (i >= 8 && s + 8 < top && s[1..8] are ASCII) { s += 8; i -= 8; }` */
function eightAtATime(m: Module, w: Walk, label: string): number {
  const get = (l: number) => m.local.get(l, binaryen.i32);
  const out = `${label}$out`;
  const mask = i64(m, ASCII_MASK);
  return m.block(out, [
    m.loop(
      label,
      m.block(null, [
        m.br(out, m.i32.lt_s(get(w.i), m.i32.const(8))),
        m.br(out, m.i32.ge_u(m.i32.add(get(w.s), m.i32.const(8)), get(w.top))),
        m.br(out, m.i64.ne(m.i64.and(m.i64.load(1, 1, get(w.s)), mask), i64(m, 0n))),
        m.local.set(w.s, m.i32.add(get(w.s), m.i32.const(8))),
        m.local.set(w.i, m.i32.sub(get(w.i), m.i32.const(8))),
        m.br(label),
      ]),
    ),
  ]);
}

export function walkAsciiEightAtATime(m: Module): Utf8IndexReport {
  const functions: string[] = [];
  for (const fn of definedFunctionNames(m)) {
    const body = binaryen.getFunctionInfo(m.getFunction(fn)).body;
    const walks = expressions(body)
      .filter((e) => kind(e) === binaryen.LoopId)
      .map((loop) => ({ loop, walk: characterWalk(loop) }))
      .filter((x) => x.walk !== null);
    walks.forEach(({ loop, walk }, k) => {
      const step = eightAtATime(m, walk!, `pyfence_ascii_${k}`);
      LoopNode.setBody(loop, m.block(null, [step, walk!.body], binaryen.getExpressionType(walk!.body)));
      functions.push(fn);
    });
  }
  if (functions.length !== 1) throw new Error(`utf8 index: expected one character walk (str_index_to_ptr), found ${functions.length}`);
  return { functions };
}
