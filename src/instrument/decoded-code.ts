// Every function body of a code section, decoded once into typed arrays: the metering rewrite
// (meter.ts) reads them twice (which functions are leaves, then each body's rewrite) without decoding
// again, and allocates nothing per instruction. Most of a module's first rewrite in a process runs
// before V8 has optimized the rewriter: there, each decoded instruction and each allocation counts.
import { decode, Kind, type Instr } from './instructions.js';
import { Cursor, Malformed } from './sections.js';

export interface DecodedCode {
  /** Per instruction, in code order: where it starts, where the next one starts, its kind, Instr.index. */
  starts: Int32Array;
  nexts: Int32Array;
  kinds: Uint8Array;
  indices: Int32Array;
  /** Defined function f's instructions are [first[f], first[f + 1]); its final `end` included. */
  first: Int32Array;
  /** Per defined function, the kinds it holds: bit k for Kind k (kindBits). Questions about a whole body without another pass. */
  kindsIn: Int32Array;
}

/** The bits of `kinds` in a DecodedCode's kindsIn. */
export function kindBits(kinds: Kind[]): number {
  let bits = 0;
  for (const k of kinds) bits |= 1 << k;
  return bits;
}

/**
 * Decodes the `n` bodies of the code section's payload from `at` (after the count) to `end`.
 * `exceptions`: as decode's (trusted builds only).
 */
export function decodeBodies(bytes: Uint8Array, at: number, end: number, n: number, exceptions: boolean): DecodedCode {
  // An instruction takes 2-3 bytes (2.2 on average in lua.wasm): room for half the code's size in
  // instructions is mostly enough, and grows by doubling when not.
  let capacity = ((end - at) >> 1) + 1024;
  let starts = new Int32Array(capacity);
  let nexts = new Int32Array(capacity);
  let kinds = new Uint8Array(capacity);
  let indices = new Int32Array(capacity);
  const first = new Int32Array(n + 1);
  const kindsIn = new Int32Array(n);
  const ins: Instr = { kind: Kind.Plain, imm: 0, next: 0, index: 0 };
  const c = new Cursor(bytes, at, end);
  let count = 0;
  for (let f = 0; f < n; f++) {
    const size = c.u32();
    const bodyEnd = c.at + size;
    if (bodyEnd > end) throw new Malformed('function body runs past the code section');
    for (let d = c.u32(); d > 0; d--) (c.u32(), c.byte());
    first[f] = count;
    let bits = 0;
    for (let p = c.at; p < bodyEnd; count++) {
      if (count === capacity) {
        capacity *= 2;
        starts = grown(starts, new Int32Array(capacity));
        nexts = grown(nexts, new Int32Array(capacity));
        kinds = grown(kinds, new Uint8Array(capacity));
        indices = grown(indices, new Int32Array(capacity));
      }
      decode(bytes, p, ins, exceptions);
      starts[count] = p;
      nexts[count] = ins.next;
      kinds[count] = ins.kind;
      indices[count] = ins.index;
      bits |= 1 << ins.kind;
      p = ins.next;
      if (p > bodyEnd) throw new Malformed('instruction runs past its function body');
    }
    if (count === first[f] || kinds[count - 1] !== Kind.End) throw new Malformed('function body does not end with end');
    kindsIn[f] = bits;
    c.at = bodyEnd;
  }
  first[n] = count;
  return { starts, nexts, kinds, indices, first, kindsIn };
}

/** `to` with `from` copied into its start: an array grown. */
export function grown<T extends Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
