// The instruction decoder of the fence: every opcode a module may contain, with its immediates. It
// knows exactly the features the fence supports (MVP, mutable globals, sign extension, non-trapping
// float-to-int, bulk memory, reference types (funcref/externref), multi-value, SIMD128, tail calls,
// extended constant expressions); anything else is refused by name (UnsupportedFeature), including
// an opcode it does not know. The metering rewrite (meter.ts) and the oracle of the property test
// both walk code with it, so nothing it accepts can pass unmetered.
import { skipLeb } from '../engine/wasm-binary.js';

/** A feature the fence does not implement; the module is refused with kind `denied`. */
export class UnsupportedFeature extends Error {
  constructor(readonly feature: string) {
    super(`the module uses ${feature}, which the fence does not support`);
  }
}

/** What the rewriters need to know about an instruction beyond its length. */
export const enum Kind {
  Plain,
  Block,
  Loop,
  If,
  Else,
  End,
  Br,
  BrIf,
  BrTable,
  Return,
  Unreachable,
  Call,
  CallIndirect,
  ReturnCall,
  ReturnCallIndirect,
  RefFunc,
  MemoryGrow,
  TableGrow,
  /** memory.fill/copy/init: the byte count is on top of the stack. */
  MemoryBulk,
  /** table.fill/copy/init: the element count is on top of the stack. */
  TableBulk,
  // Exception handling, decoded only for trusted builds (`exceptions`): a module is refused it.
  /** Legacy `try`: opens a block. (`try_table` decodes as Block: its catches are branches.) */
  Try,
  /** Legacy `catch`/`catch_all`: starts the handler, as `else` starts the other arm. */
  Catch,
  /** `throw`, `rethrow`, `throw_ref`: leave the function, unless a handler in it catches. */
  Throw,
  /** Legacy `delegate`: closes its `try`, as `end` does. */
  Delegate,
}

export interface Instr {
  kind: Kind;
  /** Where the immediates start (after the opcode, prefix sub-opcode included). */
  imm: number;
  /** Where the next instruction starts. */
  next: number;
  /** Call, ReturnCall, RefFunc: the function index; TableGrow: the table index. */
  index: number;
}

const EH = 'exception handling';
const TYPED_REFS = 'typed function references (GC proposal)';

/** Value types the fence supports. */
export function isValueType(b: number): boolean {
  return (b >= 0x7b && b <= 0x7f) || b === 0x70 || b === 0x6f;
}

/** Names the feature of a value type byte the fence does not support. */
export function valueTypeFeature(b: number): string {
  if (b === 0x63 || b === 0x64) return TYPED_REFS;
  if (b === 0x69 || b === 0x68) return EH;
  if (b >= 0x65 && b <= 0x6e) return 'GC types';
  return `value type 0x${b.toString(16)}`;
}

export function checkValueType(b: number): void {
  if (!isValueType(b)) throw new UnsupportedFeature(valueTypeFeature(b));
}

/** Where the number readU32 read last ends. */
let u32Next = 0;

/**
 * The unsigned LEB128 number at `at` (as readUleb of wasm-binary.ts), its end in u32Next: no object
 * per number. The decoder runs over every instruction of a module before V8 has optimized it, where
 * each allocation costs (a fresh process's first module is the case that counts).
 */
function readU32(bytes: Uint8Array, at: number): number {
  let byte = bytes[at++];
  let value = byte & 0x7f;
  // Small integers (shifts, not powers: no heap number in V8's interpreter) up to 28 bits; past that
  // exact, as readUleb (an index that large fails later checks or V8's validation).
  for (let shift = 7; byte & 0x80; shift += 7) {
    byte = bytes[at++];
    value = shift < 28 ? value | ((byte & 0x7f) << shift) : value + (byte & 0x7f) * 2 ** shift;
  }
  u32Next = at;
  return value;
}

function memarg(bytes: Uint8Array, at: number): number {
  if (bytes[at] < 0x40 && bytes[at + 1] < 0x80) return at + 2; // most: an alignment and an offset of one byte each
  if (readU32(bytes, at) & 0x40) throw new UnsupportedFeature('multi-memory');
  return skipLeb(bytes, u32Next);
}

function memIndexZero(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== 0) throw new UnsupportedFeature('multi-memory');
  return at + 1;
}

function blockType(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b === 0x40 || isValueType(b)) return at + 1;
  if (b & 0x40 && !(b & 0x80)) throw new UnsupportedFeature(valueTypeFeature(b)); // a one-byte negative: a type we lack
  return skipLeb(bytes, at); // a type index
}

/**
 * How an opcode's immediates are laid out, for decode's commonest cases; Imm.Other goes to otherOp.
 * Few cases, each met early in any module: V8 optimizes decode after some thousand instructions, and
 * a case it has not seen by then (a call never made) deoptimizes it, and what it is inlined in.
 */
const enum Imm {
  None,
  Memarg,
  /** One LEB128 number to skip. */
  Leb,
  /** A function index (call, return_call, ref.func): read into Instr.index. */
  FuncIndex,
  Other,
}

/** Per opcode: its immediates (Imm) and its Kind, filled below from the instruction set. */
const IMM = new Uint8Array(256).fill(Imm.Other);
const KIND = new Uint8Array(256); // Kind.Plain
for (let op = 0x45; op <= 0xc4; op++) IMM[op] = Imm.None; // numeric, sign extension
for (let op = 0x28; op <= 0x3e; op++) IMM[op] = Imm.Memarg; // loads and stores
for (const op of [0x0c, 0x0d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x41, 0x42]) IMM[op] = Imm.Leb;
for (const op of [0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1]) IMM[op] = Imm.None;
for (const op of [0x10, 0x12, 0xd2]) IMM[op] = Imm.FuncIndex;
const KINDS: [number, Kind][] = [
  [0x00, Kind.Unreachable], [0x02, Kind.Block], [0x03, Kind.Loop], [0x04, Kind.If], [0x05, Kind.Else], [0x0b, Kind.End],
  [0x0c, Kind.Br], [0x0d, Kind.BrIf], [0x0e, Kind.BrTable], [0x0f, Kind.Return], [0x10, Kind.Call], [0x11, Kind.CallIndirect],
  [0x12, Kind.ReturnCall], [0x13, Kind.ReturnCallIndirect], [0xd2, Kind.RefFunc], [0x40, Kind.MemoryGrow],
];
for (const [op, kind] of KINDS) KIND[op] = kind;

/**
 * Decodes the instruction at `at` into `out` (reused: decoding allocates nothing). `exceptions`:
 * accept both forms of exception handling (the interpreters' trusted builds; never a guest module).
 * Table-driven and small: it runs for every instruction of a module, mostly before V8 optimizes it,
 * and a small function is optimized sooner and at less cost.
 */
export function decode(bytes: Uint8Array, at: number, out: Instr, exceptions = false): void {
  const op = bytes[at];
  let p = at + 1;
  out.kind = KIND[op];
  out.index = 0;
  switch (IMM[op]) {
    case Imm.None:
      break;
    case Imm.Memarg:
      p = memarg(bytes, p);
      break;
    case Imm.Leb:
      // skipLeb inline: no call for the commonest immediates (unoptimized, a call costs).
      while (bytes[p++] & 0x80) if (p >= bytes.length) throw new RangeError('LEB128 number runs past the end');
      break;
    case Imm.FuncIndex:
      out.index = readU32(bytes, p);
      p = u32Next;
      break;
    default:
      p = otherOp(bytes, op, p, out, exceptions);
  }
  out.imm = at + 1;
  out.next = p;
}

/** The instructions decode's table does not lay out: their immediates' end; refuses what the fence lacks. */
function otherOp(bytes: Uint8Array, op: number, p: number, out: Instr, exceptions: boolean): number {
  switch (op) {
    case 0x02: // block, loop, if
    case 0x03:
    case 0x04:
      return blockType(bytes, p);
    case 0x11: // call_indirect, return_call_indirect: type, table
    case 0x13:
      return skipLeb(bytes, skipLeb(bytes, p));
    case 0x3f: // memory.size, memory.grow
    case 0x40:
      return memIndexZero(bytes, p);
    case 0x0e: {
      const n = readU32(bytes, p);
      p = u32Next;
      for (let i = 0; i <= n; i++) p = skipLeb(bytes, p);
      return p;
    }
    case 0x1c: {
      const n = readU32(bytes, p);
      p = u32Next;
      for (let i = 0; i < n; i++) checkValueType(bytes[p++]);
      return p;
    }
    case 0x43:
      return p + 4;
    case 0x44:
      return p + 8;
    case 0xd0:
      if (bytes[p] !== 0x70 && bytes[p] !== 0x6f) throw new UnsupportedFeature(TYPED_REFS);
      return p + 1;
    case 0xfc:
      return miscOp(bytes, p, out);
    case 0xfd:
      return simdOp(bytes, p);
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x18:
    case 0x19:
    case 0x1f:
      if (!exceptions) throw new UnsupportedFeature(EH);
      return exceptionOp(bytes, op, p, out);
    case 0x14:
    case 0x15:
    case 0xd3:
    case 0xd4:
    case 0xd5:
    case 0xd6:
      throw new UnsupportedFeature(TYPED_REFS);
    case 0xfb:
      throw new UnsupportedFeature('GC instructions');
    case 0xfe:
      throw new UnsupportedFeature('threads (atomic instructions)');
    default:
      throw new UnsupportedFeature(`unknown instruction 0x${op.toString(16)}`);
  }
}

/** try, catch, throw, rethrow, throw_ref, delegate, catch_all, try_table. */
function exceptionOp(bytes: Uint8Array, op: number, p: number, out: Instr): number {
  switch (op) {
    case 0x06:
      out.kind = Kind.Try;
      return blockType(bytes, p);
    case 0x07: // catch tag
      out.kind = Kind.Catch;
      return skipLeb(bytes, p);
    case 0x19: // catch_all
      out.kind = Kind.Catch;
      return p;
    case 0x08: // throw tag
    case 0x09: // rethrow label
      out.kind = Kind.Throw;
      return skipLeb(bytes, p);
    case 0x0a: // throw_ref
      out.kind = Kind.Throw;
      return p;
    case 0x18: // delegate label
      out.kind = Kind.Delegate;
      return skipLeb(bytes, p);
    default: {
      // try_table blocktype vec(catch): catch tag label | catch_ref tag label | catch_all label | catch_all_ref label
      out.kind = Kind.Block;
      p = blockType(bytes, p);
      const n = readU32(bytes, p);
      p = u32Next;
      for (let i = 0; i < n; i++) {
        const clause = bytes[p++];
        if (clause > 3) throw new UnsupportedFeature(`unknown try_table catch clause ${clause}`);
        if (clause < 2) p = skipLeb(bytes, p);
        p = skipLeb(bytes, p);
      }
      return p;
    }
  }
}

function miscOp(bytes: Uint8Array, p: number, out: Instr): number {
  const sub = readU32(bytes, p);
  p = u32Next;
  out.imm = p;
  switch (sub) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
      return p; // trunc_sat
    case 8: // memory.init data mem
      out.kind = Kind.MemoryBulk;
      return memIndexZero(bytes, skipLeb(bytes, p));
    case 9: // data.drop
    case 13: // elem.drop
    case 16: // table.size
      return skipLeb(bytes, p);
    case 10: // memory.copy mem mem
      out.kind = Kind.MemoryBulk;
      return memIndexZero(bytes, memIndexZero(bytes, p));
    case 11: // memory.fill mem
      out.kind = Kind.MemoryBulk;
      return memIndexZero(bytes, p);
    case 12: // table.init elem table
    case 14: // table.copy table table
      out.kind = Kind.TableBulk;
      return skipLeb(bytes, skipLeb(bytes, p));
    case 15: {
      out.kind = Kind.TableGrow;
      out.index = readU32(bytes, p);
      return u32Next;
    }
    case 17: // table.fill table
      out.kind = Kind.TableBulk;
      return skipLeb(bytes, p);
    default:
      throw new UnsupportedFeature(`unknown instruction 0xfc ${sub}`);
  }
}

function simdOp(bytes: Uint8Array, p: number): number {
  const op = readU32(bytes, p);
  p = u32Next;
  if (op <= 0x0b || op === 0x5c || op === 0x5d) return memarg(bytes, p); // loads, store, load_zero
  if (op === 0x0c || op === 0x0d) return p + 16; // v128.const, i8x16.shuffle
  if (op >= 0x15 && op <= 0x22) return p + 1; // extract/replace lane
  if (op >= 0x54 && op <= 0x5b) return memarg(bytes, p) + 1; // load/store lane
  if (op <= 0xff) return p;
  if (op <= 0x113) throw new UnsupportedFeature('relaxed SIMD (not deterministic)');
  throw new UnsupportedFeature(`unknown instruction 0xfd ${op}`);
}
