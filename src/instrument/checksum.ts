// A 64-bit checksum of a disk cache entry (src/instrument/disk-cache.ts), computed by a tiny
// WebAssembly function: the same loop in JavaScript took 15-28 ms on 450 KB in a fresh process (it
// runs before V8 optimizes it), and sha256 needs node:crypto, whose loading alone is ~8 ms of a
// cached `pyfence wasm` run; this takes well under a millisecond. It detects damage (a flipped bit,
// a torn or truncated write), not forgery: whoever can write the cache can write a matching
// checksum, which is why the cache lives in a directory only its user can write.
// Each 8-byte word w (the last one zero-padded) turns the state h into rotl((h ^ w) * P, 31): for a
// given word a bijection of h, and for a given h one-to-one in w, so a change confined to one word
// always changes the result; the length is checked beside it.
import { sleb64, uleb, wasmName, wasmSection } from '../engine/wasm-binary.js';

const SEED = 0x243f6a8885a308d3n; // digits of pi, any odd-looking constant
const PRIME = 0x9e3779b97f4a7c15n; // odd: multiplying by it is a bijection mod 2^64

const I32 = 0x7f;
const I64 = 0x7e;

/** (module (import "c" "memory" (memory 0)) (func (export "sum") (param $n i32) (result i64) ...)) */
function checksumModule(): Uint8Array<ArrayBuffer> {
  const n = 0; // the param: bytes to read, a multiple of 8
  const i = 1;
  const h = 2;
  const body = [
    ...[2, 1, I32, 1, I64], // locals: $i i32, $h i64
    ...[0x42, ...sleb64(SEED), 0x21, h],
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...[0x20, i, 0x20, n, 0x4f, 0x0d, 1], // br_if 1 (i >= n)
    ...[0x20, h, 0x20, i, 0x29, 3, 0, 0x85], // h ^ i64.load(i)
    ...[0x42, ...sleb64(PRIME), 0x7e, 0x42, 31, 0x89, 0x21, h], // (...) * PRIME, rotl 31
    ...[0x20, i, 0x41, 8, 0x6a, 0x21, i, 0x0c, 0], // i += 8; br 0
    ...[0x0b, 0x0b, 0x20, h, 0x0b], // end loop, end block, h, end
  ];
  const parts = [
    new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    wasmSection(1, [1, 0x60, 1, I32, 1, I64]),
    wasmSection(2, [1, ...wasmName('c'), ...wasmName('memory'), 0x02, 0x00, 0]),
    wasmSection(3, [1, 0]),
    wasmSection(7, [1, ...wasmName('sum'), 0x00, 0]),
    wasmSection(10, [1, ...uleb(body.length), ...body]),
  ];
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let compiled: WebAssembly.Module | undefined;

/**
 * `size` bytes written by `fill` into memory the checksum reads (a file can be read straight into
 * it: a fresh 450 KB buffer costs 1-2 ms of page faults here, so a copy would cost that again), and
 * their checksum, 16 hex digits. `bytes` views that memory.
 */
export function checksummed(size: number, fill: (into: Uint8Array) => void): { bytes: Uint8Array<ArrayBuffer>; checksum: string } {
  const words = Math.ceil(size / 8) * 8;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(words / 65536) });
  const bytes = new Uint8Array(memory.buffer, 0, size);
  fill(bytes);
  compiled ??= new WebAssembly.Module(checksumModule());
  const { sum } = new WebAssembly.Instance(compiled, { c: { memory } }).exports as { sum: (n: number) => bigint };
  return { bytes, checksum: BigInt.asUintN(64, sum(words)).toString(16).padStart(16, '0') };
}

/** The checksum of `bytes`. */
export function checksum64(bytes: Uint8Array): string {
  return checksummed(bytes.length, (into) => into.set(bytes)).checksum;
}
