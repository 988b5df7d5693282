// The instruction decoder of the fence: every opcode a module may contain, with its immediates. It
// knows exactly the features the fence supports (MVP, mutable globals, sign extension, non-trapping
// float-to-int, bulk memory, reference types (funcref/externref), multi-value, SIMD128, tail calls,
// extended constant expressions); anything else is refused by name (UnsupportedFeature), including
// an opcode it does not know. The metering rewrite (meter.ts) and the oracle of the property test
// both walk code with it, so nothing it accepts can pass unmetered.
import { readUleb, skipLeb } from '../engine/wasm-binary.js';

/** A feature the fence does not implement; the module is refused with kind `denied`. */
export class UnsupportedFeature extends Error {
  constructor(readonly feature: string) {
    super(`the module uses ${feature}, which the fence does not support`);
  }
}

/** What the rewriters need to know about an instruction beyond its length. */
export enum Kind {
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

function memarg(bytes: Uint8Array, at: number): number {
  const align = readUleb(bytes, at);
  if (align.value & 0x40) throw new UnsupportedFeature('multi-memory');
  return skipLeb(bytes, align.next);
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
 * Decodes the instruction at `at` into `out` (reused: decoding allocates nothing). `exceptions`:
 * accept both forms of exception handling (the interpreters' trusted builds; never a guest module).
 */
export function decode(bytes: Uint8Array, at: number, out: Instr, exceptions = false): void {
  const op = bytes[at];
  let p = at + 1;
  out.kind = Kind.Plain;
  out.index = 0;
  if (op >= 0x45 && op <= 0xc4) {
    // numeric, sign extension: no immediates
  } else if (op >= 0x28 && op <= 0x3e) {
    p = memarg(bytes, p);
  } else {
    switch (op) {
      case 0x00:
        out.kind = Kind.Unreachable;
        break;
      case 0x01:
      case 0x1a:
      case 0x1b:
      case 0xd1:
        break;
      case 0x02:
        out.kind = Kind.Block;
        p = blockType(bytes, p);
        break;
      case 0x03:
        out.kind = Kind.Loop;
        p = blockType(bytes, p);
        break;
      case 0x04:
        out.kind = Kind.If;
        p = blockType(bytes, p);
        break;
      case 0x05:
        out.kind = Kind.Else;
        break;
      case 0x0b:
        out.kind = Kind.End;
        break;
      case 0x0c:
        out.kind = Kind.Br;
        p = skipLeb(bytes, p);
        break;
      case 0x0d:
        out.kind = Kind.BrIf;
        p = skipLeb(bytes, p);
        break;
      case 0x0e: {
        out.kind = Kind.BrTable;
        const n = readUleb(bytes, p);
        p = n.next;
        for (let i = 0; i <= n.value; i++) p = skipLeb(bytes, p);
        break;
      }
      case 0x0f:
        out.kind = Kind.Return;
        break;
      case 0x10:
      case 0x12:
      case 0xd2: {
        out.kind = op === 0x10 ? Kind.Call : op === 0x12 ? Kind.ReturnCall : Kind.RefFunc;
        const f = readUleb(bytes, p);
        out.index = f.value;
        p = f.next;
        break;
      }
      case 0x11:
      case 0x13:
        out.kind = op === 0x11 ? Kind.CallIndirect : Kind.ReturnCallIndirect;
        p = skipLeb(bytes, skipLeb(bytes, p));
        break;
      case 0x1c: {
        const n = readUleb(bytes, p);
        p = n.next;
        for (let i = 0; i < n.value; i++) checkValueType(bytes[p++]);
        break;
      }
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x24:
      case 0x25:
      case 0x26:
        p = skipLeb(bytes, p);
        break;
      case 0x3f:
        p = memIndexZero(bytes, p);
        break;
      case 0x40:
        out.kind = Kind.MemoryGrow;
        p = memIndexZero(bytes, p);
        break;
      case 0x41:
      case 0x42:
        p = skipLeb(bytes, p);
        break;
      case 0x43:
        p += 4;
        break;
      case 0x44:
        p += 8;
        break;
      case 0xd0:
        if (bytes[p] !== 0x70 && bytes[p] !== 0x6f) throw new UnsupportedFeature(TYPED_REFS);
        p++;
        break;
      case 0xfc:
        p = miscOp(bytes, p, out);
        break;
      case 0xfd:
        p = simdOp(bytes, p);
        break;
      case 0x06:
      case 0x07:
      case 0x08:
      case 0x09:
      case 0x0a:
      case 0x18:
      case 0x19:
      case 0x1f:
        if (!exceptions) throw new UnsupportedFeature(EH);
        p = exceptionOp(bytes, op, p, out);
        break;
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
  out.imm = at + 1;
  out.next = p;
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
      const n = readUleb(bytes, p);
      p = n.next;
      for (let i = 0; i < n.value; i++) {
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
  const sub = readUleb(bytes, p);
  p = sub.next;
  out.imm = p;
  switch (sub.value) {
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
      const t = readUleb(bytes, p);
      out.index = t.value;
      return t.next;
    }
    case 17: // table.fill table
      out.kind = Kind.TableBulk;
      return skipLeb(bytes, p);
    default:
      throw new UnsupportedFeature(`unknown instruction 0xfc ${sub.value}`);
  }
}

function simdOp(bytes: Uint8Array, p: number): number {
  const sub = readUleb(bytes, p);
  const op = sub.value;
  p = sub.next;
  if (op <= 0x0b || op === 0x5c || op === 0x5d) return memarg(bytes, p); // loads, store, load_zero
  if (op === 0x0c || op === 0x0d) return p + 16; // v128.const, i8x16.shuffle
  if (op >= 0x15 && op <= 0x22) return p + 1; // extract/replace lane
  if (op >= 0x54 && op <= 0x5b) return memarg(bytes, p) + 1; // load/store lane
  if (op <= 0xff) return p;
  if (op <= 0x113) throw new UnsupportedFeature('relaxed SIMD (not deterministic)');
  throw new UnsupportedFeature(`unknown instruction 0xfd ${op}`);
}
