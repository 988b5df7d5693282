// Every new str gets its hash from qstr_compute_hash: djb2 over its bytes (`h = h * 33 ^ byte`), one
// loop round trip per byte, each with the meter's add and loop-header test. It was the largest single
// function in a profile of string-heavy code (a fifth of strings.py's time, metered).
//
// This gives it a body that takes four bytes a round (one 32-bit load, the same four steps of the
// formula in order), then the rest one at a time, then the same ending: the low 16 bits, 0 and 1
// becoming 1; an empty string keeps 5381. The same hash for every input (the interned-name filter
// and the pools compare these hashes with the ones qstr_find_strn computes inline, so a difference
// would break every name lookup).
//
// qstr_find_strn (build/passes/qstr-filter.ts), which every new str goes through before the str gets
// its own hash, has its own copy of the byte loop inlined: hashStrLookupsFourBytesARound replaces
// that loop with a call to this function. The lookup ends as qstr_compute_hash does (the low 16 bits,
// 0 and 1 becoming 1), and that ending leaves an ended hash as it is: the same hash either way.
//
// Found by structure: the function of two i32 parameters (bytes, length) returning i32, without calls
// or stores, whose one loop computes `h = load8_u(p) ^ (h * 33)` from 5381, masked with 65535. In the
// lookup: its one loop with that step, which reads bytes from a pointer local stepped by one up to the
// end (its bytes and length parameters), and nothing else.
import binaryen from 'binaryen';
import { FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { BlockNode } from '../binaryen-extra.js';
import { expressions, info, isConst, isGet, kind, teeOf } from '../walk.js';

export interface StrHashReport {
  /** qstr_compute_hash, by its internal name. */
  hash: string;
  /** The lookup whose inline loop now calls it (qstr_find_strn), if one was given. */
  lookup?: string;
}

const DJB2_START = 5381;

function isComputeHash(body: number): boolean {
  const exprs = expressions(body);
  const count = (id: number) => exprs.filter((e) => kind(e) === id).length;
  if (count(binaryen.LoopId) !== 1 || count(binaryen.CallId) + count(binaryen.CallIndirectId) !== 0 || count(binaryen.StoreId) !== 0) return false;
  const step = exprs.some((e) => {
    if (kind(e) !== binaryen.BinaryId || info(e).op !== binaryen.XorInt32) return false;
    const [l, r] = [info(e).left, info(e).right];
    const isByte = (x: number) => kind(x) === binaryen.LoadId && info(x).bytes === 1 && !info(x).isSigned;
    const isTimes33 = (x: number) => kind(x) === binaryen.BinaryId && info(x).op === binaryen.MulInt32 && isConst(info(x).right, 33);
    return (isByte(l) && isTimes33(r)) || (isByte(r) && isTimes33(l));
  });
  const start = exprs.some((e) => isConst(e, DJB2_START));
  const mask = exprs.some((e) => kind(e) === binaryen.BinaryId && info(e).op === binaryen.AndInt32 && isConst(info(e).right, 65535));
  return step && start && mask;
}

export function hashFourBytesARound(m: Module): StrHashReport {
  const i32x2 = binaryen.createType([binaryen.i32, binaryen.i32]);
  const found = definedFunctionNames(m).filter((name) => {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    return f.params === i32x2 && f.results === binaryen.i32 && isComputeHash(f.body);
  });
  if (found.length !== 1) throw new Error(`str-hash: expected one qstr_compute_hash, found ${found.length}`);
  const fn = m.getFunction(found[0]);
  const [h, end, word] = [0, 1, 2].map(() => FunctionNode.addVar(fn, binaryen.i32));
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const k = (n: number) => m.i32.const(n);
  const p = 0;
  // h * 33 as (h << 5) + h: the same bits, and a shift and an add (one cycle each) where a multiply
  // takes three, on the chain every byte waits for.
  const step = (byte: number) => m.local.set(h, m.i32.xor(byte, m.i32.add(m.i32.shl(get(h), k(5)), get(h))));
  const byteOfWord = (i: number) => m.i32.and(i === 0 ? get(word) : m.i32.shr_u(get(word), k(8 * i)), k(255));
  const fours = 'pyfence_hash_fours';
  const foursDone = 'pyfence_hash_fours_done';
  const ones = 'pyfence_hash_ones';
  const onesDone = 'pyfence_hash_ones_done';
  const body = m.block(null, [
    m.local.set(h, k(DJB2_START)),
    m.if(m.i32.eqz(get(1)), m.return(k(DJB2_START))),
    m.local.set(end, m.i32.add(get(p), get(1))),
    m.block(foursDone, [
      m.loop(fours, m.block(null, [
        m.br(foursDone, m.i32.gt_u(m.i32.add(get(p), k(4)), get(end))),
        m.local.set(word, m.i32.load(0, 1, get(p))), // little-endian: the first byte is the low one
        step(byteOfWord(0)),
        step(byteOfWord(1)),
        step(byteOfWord(2)),
        step(m.i32.shr_u(get(word), k(24))),
        m.local.set(p, m.i32.add(get(p), k(4))),
        m.br(fours),
      ])),
    ]),
    m.block(onesDone, [
      m.loop(ones, m.block(null, [
        m.br(onesDone, m.i32.ge_u(get(p), get(end))),
        step(m.i32.load8_u(0, 1, get(p))),
        m.local.set(p, m.i32.add(get(p), k(1))),
        m.br(ones),
      ])),
    ]),
    m.local.set(h, m.i32.and(get(h), k(65535))),
    m.return(m.select(m.i32.le_u(get(h), k(1)), k(1), get(h))),
  ], binaryen.i32);
  FunctionNode.setBody(fn, body);
  return { hash: found[0] };
}

/** `h = load8_u(p) ^ (h * 33)` (either operand order): [h, p], else null. */
function djb2Step(e: number): [number, number] | null {
  if (kind(e) !== binaryen.LocalSetId || info(e).isTee) return null;
  const v = info(e).value;
  if (kind(v) !== binaryen.BinaryId || info(v).op !== binaryen.XorInt32) return null;
  const h = info(e).index as number;
  for (const [byte, times] of [[info(v).left, info(v).right], [info(v).right, info(v).left]]) {
    const isByte = kind(byte) === binaryen.LoadId && info(byte).bytes === 1 && !info(byte).isSigned && info(byte).offset === 0 && kind(info(byte).ptr) === binaryen.LocalGetId;
    const isTimes33 = kind(times) === binaryen.BinaryId && info(times).op === binaryen.MulInt32 && isGet(info(times).left, h) && isConst(info(times).right, 33);
    if (isByte && isTimes33) return [h, info(info(byte).ptr).index as number];
  }
  return null;
}

/**
 * In `lookup` (qstr_find_strn(bytes, length), found by build/passes/qstr-filter.ts), the inline djb2
 * loop `do { h = h * 33 ^ *p; } while (++p < end)` becomes `h = hash(bytes, length); p = end`: the
 * values the loop leaves (it runs once at least: the lookup returns before it for length 0).
 */
export function hashStrLookupsFourBytesARound(m: Module, report: StrHashReport, lookup: string, lengthParam: number): StrHashReport {
  const fn = m.getFunction(lookup);
  const f = binaryen.getFunctionInfo(fn);
  if (binaryen.expandType(f.params).length !== 2 || lengthParam > 1) throw new Error('str-hash: the lookup should take (bytes, length)');
  const bytesParam = 1 - lengthParam;
  const loops = expressions(f.body).filter((e) => kind(e) === binaryen.LoopId && expressions(e).some((x) => djb2Step(x)));
  if (loops.length !== 1) throw new Error(`str-hash: expected one hash loop in the lookup, found ${loops.length}`);
  const loop = loops[0];
  const inner = expressions(loop);
  const [h, p] = inner.map(djb2Step).find((x) => x)!;
  // The body: the step, then `br_if loop (p = p + 1) < end`, and nothing else.
  const body = info(loop).body;
  const stmts = kind(body) === binaryen.BlockId ? (info(body).children as number[]) : [body];
  if (stmts.length !== 2 || !djb2Step(stmts[0]) || kind(stmts[1]) !== binaryen.BreakId || info(stmts[1]).name !== info(loop).name) {
    throw new Error('str-hash: the lookup\'s hash loop should be the step and one conditional branch back');
  }
  const cond = info(stmts[1]).condition;
  const bump = kind(cond) === binaryen.BinaryId && info(cond).op === binaryen.LtUInt32 ? info(cond).left : 0;
  const stepped = bump && kind(bump) === binaryen.LocalSetId && info(bump).isTee && info(bump).index === p && kind(teeOf(bump)) === binaryen.BinaryId && info(teeOf(bump)).op === binaryen.AddInt32 && isGet(info(teeOf(bump)).left, p) && isConst(info(teeOf(bump)).right, 1);
  if (!stepped || kind(info(cond).right) !== binaryen.LocalGetId) throw new Error('str-hash: the lookup\'s hash loop should step its pointer by one up to an end');
  if (inner.some((e) => [binaryen.CallId, binaryen.CallIndirectId, binaryen.StoreId].includes(kind(e)))) throw new Error('str-hash: the lookup\'s hash loop should only hash');
  const end = info(info(cond).right).index as number;
  const endSets = expressions(f.body).filter((e) => kind(e) === binaryen.LocalSetId && info(e).index === end);
  const isSum = (e: number) => kind(e) === binaryen.BinaryId && info(e).op === binaryen.AddInt32 && ((isGet(info(e).left, bytesParam) && isGet(info(e).right, lengthParam)) || (isGet(info(e).left, lengthParam) && isGet(info(e).right, bytesParam)));
  if (!endSets.some((e) => isSum(info(e).value) && !info(e).isTee)) throw new Error('str-hash: the lookup\'s hash loop should end at bytes + length');
  if (inner.some((e) => kind(e) === binaryen.LocalSetId && info(e).index === end)) throw new Error('str-hash: the lookup\'s hash loop should not move its end');
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const replacement = m.block(null, [
    m.local.set(h, m.call(report.hash, [get(bytesParam), get(lengthParam)], binaryen.i32)),
    m.local.set(p, get(end)),
  ]);
  const parents = expressions(f.body).filter((e) => kind(e) === binaryen.BlockId && (info(e).children as number[]).includes(loop));
  if (parents.length !== 1) throw new Error('str-hash: the lookup\'s hash loop should be a statement of a block');
  BlockNode.setChildAt(parents[0], (info(parents[0]).children as number[]).indexOf(loop), replacement);
  return { ...report, lookup };
}
