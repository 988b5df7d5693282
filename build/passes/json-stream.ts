// json.loads parses from a stream one character at a time: json_stream_next calls the stream's read
// through the function table for one byte (for a str, StringIO's read: a bounds check, a one-byte
// memory.copy, the position moved on), then checks the error code. That call was the largest cost of
// a json.loads profile after the parser itself.
//
// This adds a first step to json_stream_next: when the stream's read is StringIO's (the table slot it
// has in the module) and no error is pending, take the next byte from the StringIO's buffer directly:
// the byte at its position when the position is before the end (the position moves on), else 0 (the
// end, as a read of nothing gives). Anything else (a closed StringIO, another stream) goes the way it
// went. The slot is checked again on the finished module (checkJsonStreamSlot), so an optimizer that
// moved table entries stops the build instead of sending another stream's reads here.
//
// Found by structure: StringIO's read is the function of four i32 parameters returning i32 that copies
// from `vstr->buf + pos` into its second parameter and adds the count to `o->pos` (offset 8); the
// table slot is where an element segment places it. json_stream_next is the function of one i32
// parameter returning i32 whose call_indirect reads one byte: (s->stream, &s->cur, 1, &s->errcode).
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, isGet, kind, teeOf } from '../walk.js';

export interface JsonStreamReport {
  /** json_stream_next and StringIO's read, by their internal names, and the read's table slot. */
  next: string;
  stringioRead: string;
  slot: number;
  /** json_stream_next's old body, called when the direct read does not apply. */
  otherStreams: string;
}

/** The name of the function json_stream_next's old body moves to. */
export const JSON_NEXT_OTHER_STREAMS = 'pyfence_json_stream_next_other';

// struct { stream obj; read fn (table index); int errcode; byte cur } as json_stream_next uses it.
const STREAM = 0;
const READ = 4;
const ERRCODE = 8;
const CUR = 12;
// StringIO: { base; vstr_t *vstr at 4; pos at 8 }, vstr_t: { alloc; len at 4; buf at 8 }.
const VSTR = 4;
const POS = 8;
const LEN = 4;
const BUF = 8;

const isParamPlus = (e: number, offset: number) =>
  kind(e) === binaryen.BinaryId && info(e).op === binaryen.AddInt32 && isGet(info(e).left, 0) && isConst(info(e).right, offset);

function isStringioRead(body: number): boolean {
  const exprs = expressions(body);
  const copies = exprs.some((e) => kind(e) === binaryen.MemoryCopyId && isGet(info(e).dest, 1));
  const movesPos = exprs.some((e) => {
    if (kind(e) !== binaryen.StoreId || info(e).offset !== POS || !isGet(info(e).ptr, 0)) return false;
    const v = info(e).value;
    return kind(v) === binaryen.BinaryId && info(v).op === binaryen.AddInt32 && kind(info(v).left) === binaryen.LoadId && info(info(v).left).offset === POS;
  });
  return copies && movesPos && exprs.filter((e) => kind(e) === binaryen.MemoryCopyId).length === 1;
}

function readsOneByte(body: number): boolean {
  return expressions(body).some((e) => {
    if (kind(e) !== binaryen.CallIndirectId) return false;
    const ops = info(e).operands as number[];
    const target = info(e).target;
    return (
      ops.length === 4 &&
      kind(ops[0]) === binaryen.LoadId && info(ops[0]).offset === STREAM && isGet(info(ops[0]).ptr, 0) &&
      isParamPlus(teeOf(ops[1]), CUR) && isConst(ops[2], 1) && isParamPlus(ops[3], ERRCODE) &&
      kind(target) === binaryen.LoadId && info(target).offset === READ && isGet(info(target).ptr, 0)
    );
  });
}

/** Every table slot an element segment gives `fn`. */
function slotsOf(m: Module, fn: string): number[] {
  const slots: number[] = [];
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    const seg = binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i));
    const offset = seg.offset as unknown as number; // an expression: the segment's constant start
    if (!seg.data.includes(fn)) continue;
    if (kind(offset) !== binaryen.ConstId) throw new Error('json-stream: an element segment placing StringIO\'s read has no constant offset');
    seg.data.forEach((name, k) => name === fn && slots.push(info(offset).value + k));
  }
  return slots;
}

function only(names: string[], what: string): string {
  if (names.length !== 1) throw new Error(`json-stream: expected one ${what}, found ${names.length}`);
  return names[0];
}

export function readJsonFromStringioDirectly(m: Module): JsonStreamReport {
  const stringioRead = stringioReadOf(m);
  const next = only(
    definedFunctionNames(m).filter((name) => {
      const f = binaryen.getFunctionInfo(m.getFunction(name));
      return f.params === binaryen.i32 && f.results === binaryen.i32 && readsOneByte(f.body);
    }),
    'json_stream_next',
  );
  const slot = slotOf(m, stringioRead);

  // The old body moves to a function of its own, with the same parameter and locals.
  const old = binaryen.getFunctionInfo(m.getFunction(next));
  m.removeFunction(next);
  m.addFunction(JSON_NEXT_OTHER_STREAMS, old.params, old.results, old.vars, old.body);
  const fn = m.addFunction(next, old.params, old.results, [], m.nop());
  const [o, v, pos, c] = Array.from({ length: 4 }, () => FunctionNode.addVar(fn, binaryen.i32));
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const k = (n: number) => m.i32.const(n);
  const fast = m.if(
    m.i32.and(m.i32.eq(m.i32.load(READ, 4, get(0)), k(slot)), m.i32.eqz(m.i32.load(ERRCODE, 4, get(0)))),
    m.block(null, [
      m.local.set(o, m.i32.load(STREAM, 4, get(0))),
      m.if(
        m.local.tee(v, m.i32.load(VSTR, 4, get(o)), binaryen.i32),
        m.block(null, [
          m.local.set(pos, m.i32.load(POS, 4, get(o))),
          m.if(
            m.i32.lt_u(get(pos), m.i32.load(LEN, 4, get(v))),
            m.block(null, [
              m.local.set(c, m.i32.load8_u(0, 1, m.i32.add(m.i32.load(BUF, 4, get(v)), get(pos)))),
              m.i32.store(POS, 4, get(o), m.i32.add(get(pos), k(1))),
              m.i32.store8(CUR, 1, get(0), get(c)),
              m.return(get(c)),
            ]),
          ),
          m.i32.store8(CUR, 1, get(0), k(0)),
          m.return(k(0)),
        ]),
      ),
    ]),
  );
  FunctionNode.setBody(fn, m.block(null, [fast, m.return(m.call(JSON_NEXT_OTHER_STREAMS, [get(0)], binaryen.i32))], binaryen.i32));
  return { next, stringioRead, slot, otherStreams: JSON_NEXT_OTHER_STREAMS };
}

/** StringIO's read, found by its structure (throws unless exactly one function is). */
function stringioReadOf(m: Module): string {
  const sig4 = binaryen.createType(Array(4).fill(binaryen.i32));
  const reads = definedFunctionNames(m).filter((name) => {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    return f.params === sig4 && f.results === binaryen.i32 && isStringioRead(f.body);
  });
  return only(reads, "StringIO's read");
}

/** The one table slot an element segment gives `fn` (throws unless exactly one). */
function slotOf(m: Module, fn: string): number {
  return Number(only(slotsOf(m, fn).map(String), "table slot of StringIO's read"));
}

/** The table slot of StringIO's read, found by its structure. */
export function stringioReadSlot(m: Module): number {
  return slotOf(m, stringioReadOf(m));
}

/**
 * On the finished module (optimised, metered: the meter's rewrite renames functions by index): StringIO's
 * read still sits at the slot the fast path compares with.
 */
export function checkJsonStreamSlot(m: Module, report: JsonStreamReport): void {
  const slot = stringioReadSlot(m);
  if (slot !== report.slot) throw new Error(`json-stream: StringIO's read moved from table slot ${report.slot} to ${slot}`);
}
