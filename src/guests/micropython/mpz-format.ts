// The host's half of build/passes/mpz-format.ts: mpz_as_str_inpl(i, base, prefix, base_char, comma,
// str) done with JS BigInt, writing exactly the bytes the interpreter's own loop writes. Every read and
// write is bounds-checked against the memory (a guest may corrupt the mpz_t it points us at: the worst
// it gets is a trap or its own bytes reformatted), and the work is charged before it is done.
import type { FuelMeter } from '../../engine/fuel.js';
import { HOST_WORK_FUEL } from '../../engine/host-work.js';
import type { GuestMemory } from '../../engine/memory-view.js';

/** Below this many 16-bit digits (192 bits) the interpreter's own loop is as quick as a host call (measured). */
export const MPZ_HOST_MIN_DIGITS = 12;
/**
 * Above this many (65,536 bits, ~19,700 decimal digits; a few ms of host work) the interpreter's own
 * loop runs: it is metered and interruptible, and a host call is neither.
 */
export const MPZ_HOST_MAX_DIGITS = 4096;
const NOT_HERE = -1;
const CHAR_A = 0x61;
const MINUS = 0x2d;

function outOfBounds(): never {
  throw new WebAssembly.RuntimeError('memory access out of bounds');
}

/** The digits of `value` in `base`, most significant first, as mpz_as_str_inpl spells them. */
function digitBytes(value: bigint, base: number, baseChar: number): Uint8Array {
  const text = value.toString(base);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c < CHAR_A ? c : (baseChar + (c - CHAR_A)) & 0xff; // '0'-'9' as they are, then base_char on
  }
  return out;
}

/** A separator every `group` digits, counted from the least significant; none before the first. */
function grouped(digits: Uint8Array, group: number, separator: number): Uint8Array {
  const separators = Math.floor((digits.length - 1) / group);
  const out = new Uint8Array(digits.length + separators);
  for (let from = digits.length - 1, to = out.length - 1, run = 0; from >= 0; from--) {
    out[to--] = digits[from];
    if (++run === group && from > 0) {
      out[to--] = separator;
      run = 0;
    }
  }
  return out;
}

export function formatMpz(memory: GuestMemory, meter: FuelMeter, mpz: number, base: number, prefix: number, baseChar: number, comma: number, str: number): number {
  mpz >>>= 0;
  const size = memory.byteLength;
  if (mpz + 12 > size) outOfBounds();
  const length = memory.u32(mpz + 4);
  if (length < MPZ_HOST_MIN_DIGITS || length > MPZ_HOST_MAX_DIGITS || base < 2 || base > 36) return NOT_HERE;
  const dig = memory.u32(mpz + 8);
  if (dig + 2 * length > size) outOfBounds();
  meter.charge(HOST_WORK_FUEL.bigIntFormat + HOST_WORK_FUEL.bigIntFormatDigit * length);

  // Little-endian 16-bit digits: reversed, the bytes read as one big-endian hex number.
  const value = BigInt('0x' + Buffer.from(memory.bytes(dig, 2 * length)).reverse().toString('hex'));
  let digits = digitBytes(value, base, baseChar & 0xff);
  if (comma !== 0) digits = grouped(digits, base === 10 ? 3 : 4, comma & 0xff);
  let prefixBytes = new Uint8Array(0);
  if (prefix !== 0) {
    const all = memory.bytes(0, size);
    let end = prefix >>> 0;
    while (end < size && all[end] !== 0) end++;
    if (end >= size) outOfBounds();
    prefixBytes = all.slice(prefix >>> 0, end);
  }
  const negative = (memory.bytes(mpz, 1)[0] & 1) === 1;
  const written = (negative ? 1 : 0) + prefixBytes.length + digits.length;
  str >>>= 0;
  if (str + written + 1 > size) outOfBounds();
  const out = memory.bytes(str, written + 1);
  let at = 0;
  if (negative) out[at++] = MINUS;
  out.set(prefixBytes, at);
  out.set(digits, at + prefixBytes.length);
  out[written] = 0;
  return written;
}
