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
// Found by structure: the function of two i32 parameters (bytes, length) returning i32, without calls
// or stores, whose one loop computes `h = load8_u(p) ^ (h * 33)` from 5381, masked with 65535.
import binaryen from 'binaryen';
import { FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';

export interface StrHashReport {
  /** qstr_compute_hash, by its internal name. */
  hash: string;
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
  const step = (byte: number) => m.local.set(h, m.i32.xor(byte, m.i32.mul(get(h), k(33))));
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
