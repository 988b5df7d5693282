// Dividing a big int by a small one (`term //= 25`, `n % 10`, digit by digit arithmetic) goes through
// mpz_divmod_inpl's long division (Knuth's algorithm D, inlined into it): per quotient digit it
// estimates, multiplies the divisor back and subtracts, normalising the divisor's digits on the fly,
// after shifting the whole numerator up and before shifting it back. With a one-digit divisor that is
// several times the work of short division: carry the remainder down the digits, one divide each.
//
// This adds short division in front of the long one, for a divisor of one 16-bit digit and a
// numerator of two or more (so the numerator is larger and the quotient at least 1): from the top
// digit down, a = (r << 16) | num[i]; quo[i] = a / d; r = a % d; then the quotient's length without
// its zero top digit and the remainder as the numerator's only digit (none when 0), which is what the
// long division leaves. Signs and the floor adjustment run after it as they did.
//
// Found by structure: the function of four i32 parameters and no result holding a block that starts
// `br_if $self (rem.len < den.len)` (rem: the second parameter's mpz_t, den: the fourth's), followed
// in its parent by `quo.len = k` (the first parameter's): the block the simple cases leave with k set.
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, kind, teeOf } from '../walk.js';

export interface MpzShortDivisionReport {
  /** mpz_divmod_inpl, by its internal name. */
  divmod: string;
}

const LEN = 4; // mpz_t: { neg:1, fixed_dig:1, alloc:30 } at 0, len at 4, dig at 8
const DIG = 8;

const isLen = (e: number, param: number) =>
  kind(e) === binaryen.LoadId && info(e).offset === LEN && info(e).bytes === 4 && kind(info(e).ptr) === binaryen.LocalGetId && info(info(e).ptr).index === param;

/** The division block (its first statement leaves it when rem.len < den.len) and the local it leaves quo.len in. */
function divisionBlock(body: number): { block: number; quoLen: number } | null {
  for (const parent of expressions(body)) {
    if (kind(parent) !== binaryen.BlockId) continue;
    const children = info(parent).children as number[];
    for (let i = 0; i + 1 < children.length; i++) {
      const block = children[i];
      if (kind(block) !== binaryen.BlockId || !info(block).name) continue;
      const first = (info(block).children as number[])[0];
      if (first === undefined || kind(first) !== binaryen.BreakId || info(first).name !== info(block).name || !info(first).condition) continue;
      const c = info(first).condition;
      if (kind(c) !== binaryen.BinaryId || info(c).op !== binaryen.LtUInt32 || !isLen(teeOf(info(c).left), 1) || !isLen(teeOf(info(c).right), 3)) continue;
      const next = children[i + 1];
      if (kind(next) !== binaryen.StoreId || info(next).offset !== LEN || info(next).bytes !== 4) continue;
      if (kind(info(next).ptr) !== binaryen.LocalGetId || info(info(next).ptr).index !== 0 || kind(info(next).value) !== binaryen.LocalGetId) continue;
      return { block, quoLen: info(info(next).value).index as number };
    }
  }
  return null;
}

export function divideBySmallIntsShort(m: Module): MpzShortDivisionReport {
  const i32x4 = binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32, binaryen.i32]);
  const found: { name: string; block: number; quoLen: number }[] = [];
  for (const name of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    if (f.params !== i32x4 || f.results !== binaryen.none) continue;
    const hit = divisionBlock(f.body);
    if (hit) found.push({ name, ...hit });
  }
  if (found.length !== 1) throw new Error(`mpz-short-division: expected one mpz_divmod_inpl, found ${found.length}`);
  const { name, block, quoLen } = found[0];
  // New locals: divisor, index, remainder, the current two digits, quotient digit, numerator and
  // quotient digit pointers.
  const fn = m.getFunction(name);
  const [d, i, r, a, q, num, quo] = Array.from({ length: 7 }, () => FunctionNode.addVar(fn, binaryen.i32));
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const c = (v: number) => m.i32.const(v);
  const at = (ptr: number, index: number) => m.i32.add(get(ptr), m.i32.shl(get(index), c(1)));
  const loop = 'pyfence_short_division';
  const strip = 'pyfence_short_division_strip';
  const stripped = 'pyfence_short_division_stripped';
  const shortDivision = m.if(
    m.i32.and(m.i32.eq(m.i32.load(LEN, 4, get(3)), c(1)), m.i32.ge_u(m.i32.load(LEN, 4, get(1)), c(2))),
    m.block(null, [
      m.local.set(d, m.i32.load16_u(0, 2, m.i32.load(DIG, 4, get(3)))),
      m.local.set(num, m.i32.load(DIG, 4, get(1))),
      m.local.set(quo, m.i32.load(DIG, 4, get(0))),
      m.local.set(i, m.i32.load(LEN, 4, get(1))),
      m.local.set(r, c(0)),
      m.loop(loop, m.block(null, [
        m.local.set(i, m.i32.sub(get(i), c(1))),
        m.local.set(a, m.i32.or(m.i32.shl(get(r), c(16)), m.i32.load16_u(0, 2, at(num, i)))),
        m.local.set(q, m.i32.div_u(get(a), get(d))),
        m.i32.store16(0, 2, at(quo, i), get(q)),
        m.local.set(r, m.i32.sub(get(a), m.i32.mul(get(q), get(d)))),
        m.br(loop, get(i)),
      ])),
      // The quotient's length without zero top digits (it is at least 1: the numerator is larger).
      m.local.set(quoLen, m.i32.load(LEN, 4, get(1))),
      m.block(stripped, [
        m.loop(strip, m.block(null, [
          m.br(stripped, m.i32.load16_u(0, 2, m.i32.sub(at(quo, quoLen), c(2)))),
          m.local.set(quoLen, m.i32.sub(get(quoLen), c(1))),
          m.br(strip, get(quoLen)),
        ])),
      ]),
      m.i32.store16(0, 2, get(num), get(r)),
      m.i32.store(LEN, 4, get(1), m.i32.ne(get(r), c(0))),
      m.br(info(block).name),
    ]),
  );
  BlockNode.insertChildAt(block, 0, shortDivision);
  return { divmod: name };
}
