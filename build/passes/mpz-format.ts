// `str()`, `hex()`, `format()` of a big int go through mpz_as_str_inpl, which makes one digit of output
// per pass over the whole number (divide every 16-bit digit by the base, keep the remainder) and never
// shortens the number as its top digits become zero: n^2 divisions for an n-digit number. Printing a
// 4,000-digit factorial took three quarters of a big-integer program's time, metered.
//
// This puts a host call in front of it: the host reads the number (sign, length, digit pointer) from
// the mpz_t, converts it with JS BigInt (subquadratic) and writes the same bytes the function writes:
// sign, prefix, then the digits from the most significant, a separator every 3 digits (base 10) or 4
// (other bases) counted from the least significant digit, base_char for digits over 9, a NUL after
// (src/guests/micropython/mpz-format.ts). It answers -1 for numbers it leaves to the original (too
// small to gain, or too large for a call that cannot be interrupted), and the original runs as built.
//
// Found by structure: the only function of six i32 parameters returning i32 whose loop stores
// `((a << 16) | *d) / base` back into the digit it read (base: its second parameter).
import binaryen from 'binaryen';
import { CallNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import { HOST_IMPORT_MODULE, MPZ_FORMAT_IMPORT } from '../../src/engine/abi.js';

const HOST_FORMAT = 'pyfence_mpz_format_host';
const FORMAT_FIRST = 'pyfence_mpz_format';

export interface MpzFormatReport {
  /** mpz_as_str_inpl, by its internal name. */
  formatter: string;
  /** Direct calls of it now made through the host's conversion first. */
  callsRedirected: number;
}

/** `store16(d, div_u(or(shl(a, 16), load16_u(d)), local.get 1))`: a digit divided by the base in place. */
function dividesDigitsByBase(body: number): boolean {
  return expressions(body).some((e) => {
    if (kind(e) !== binaryen.StoreId || info(e).bytes !== 2) return false;
    let v = info(e).value;
    if (kind(v) === binaryen.LocalSetId && info(v).isTee) v = info(v).value;
    if (kind(v) !== binaryen.BinaryId || info(v).op !== binaryen.DivUInt32) return false;
    const divisor = info(v).right;
    if (kind(divisor) !== binaryen.LocalGetId || info(divisor).index !== 1) return false;
    const hasShl16 = expressions(info(v).left).some((x) => kind(x) === binaryen.BinaryId && info(x).op === binaryen.ShlInt32 && isConst(info(x).right, 16));
    const hasDigit = expressions(info(v).left).some((x) => kind(x) === binaryen.LoadId && info(x).bytes === 2 && !info(x).isSigned);
    return hasShl16 && hasDigit;
  });
}

export function formatBigIntsOnHost(m: Module): MpzFormatReport {
  const i32x6 = binaryen.createType(Array(6).fill(binaryen.i32));
  const found = definedFunctionNames(m).filter((name) => {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    return f.params === i32x6 && f.results === binaryen.i32 && dividesDigitsByBase(f.body);
  });
  if (found.length !== 1) throw new Error(`mpz-format: expected one mpz_as_str_inpl, found ${found.length}`);
  const formatter = found[0];

  m.addFunctionImport(HOST_FORMAT, HOST_IMPORT_MODULE, MPZ_FORMAT_IMPORT, i32x6, binaryen.i32);
  const args = Array.from({ length: 6 }, (_, i) => m.local.get(i, binaryen.i32));
  const written = 6; // the one local after the parameters
  m.addFunction(FORMAT_FIRST, i32x6, binaryen.i32, [binaryen.i32], m.block(null, [
    m.local.set(written, m.call(HOST_FORMAT, args, binaryen.i32)),
    m.if(m.i32.ge_s(m.local.get(written, binaryen.i32), m.i32.const(0)), m.return(m.local.get(written, binaryen.i32))),
    m.return(m.call(formatter, Array.from({ length: 6 }, (_, i) => m.local.get(i, binaryen.i32)), binaryen.i32)),
  ], binaryen.i32));

  let callsRedirected = 0;
  for (const name of definedFunctionNames(m)) {
    if (name === FORMAT_FIRST) continue;
    for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(name)).body)) {
      if (kind(e) === binaryen.CallId && info(e).target === formatter) {
        CallNode.setTarget(e, FORMAT_FIRST);
        callsRedirected++;
      }
    }
  }
  if (callsRedirected === 0) throw new Error('mpz-format: mpz_as_str_inpl has no direct caller');
  return { formatter, callsRedirected };
}
