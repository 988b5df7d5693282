// json.loads parses from a stream one character at a time: json_stream_next calls the stream's read
// through the function table for one byte (for a str, StringIO's read: a bounds check, a one-byte
// memory.copy, the position moved on), then checks the error code. That call was the largest cost of
// a json.loads profile after the parser itself.
//
// This adds a first step to json_stream_next: when the stream's read is StringIO's (the table slot it
// has in the module) and no error is pending, take the next byte from the StringIO's buffer directly:
// the byte at its position when the position is before the end (the position moves on), else 0 (the
// end, as a read of nothing gives). Anything else (a closed StringIO, another stream) goes the way it
// went, in a function of its own (json_stream_next's old body, with its shadow-stack frame for the
// call through the table). The first step is then put in place of every call of json_stream_next in
// the parser (binaryen's inliner leaves any function that calls), so that a byte of a str costs no
// call and no meter charge on entry; json_stream_next keeps the same two steps for any other caller.
// The slot is checked again on the finished module (checkJsonStreamSlot), so an optimizer that
// moved table entries stops the build instead of sending another stream's reads here.
//
// Found by structure: StringIO's read is the function of four i32 parameters returning i32 that copies
// from `vstr->buf + pos` into its second parameter and adds the count to `o->pos` (offset 8); the
// table slot is where an element segment places it. json_stream_next is the function of one i32
// parameter returning i32 whose call_indirect reads one byte: (s->stream, &s->cur, 1, &s->errcode).
import binaryen from 'binaryen';
import { BinaryNode, DropNode, FunctionNode, LocalSetNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { children, expressions, info, isConst, isGet, kind, teeOf } from '../walk.js';

export interface JsonStreamReport {
  /** json_stream_next and StringIO's read, by their internal names, and the read's table slot. */
  next: string;
  stringioRead: string;
  slot: number;
  /** json_stream_next's old body, called when the direct read does not apply. */
  otherStreams: string;
  /** Calls of json_stream_next replaced by the direct read. */
  inlined: number;
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
  FunctionNode.setBody(fn, directRead(m, slot, { s: 0, o, v, pos, c }, 'pyfence_json_next'));
  // Then in its callers (the parser), in place of each call: no call for a byte of a str. binaryen's
  // inliner leaves a function that calls alone, whatever its size.
  const inlined = inlineAtCalls(m, next, slot);
  return { next, stringioRead, slot, otherStreams: JSON_NEXT_OTHER_STREAMS, inlined };
}

interface ReadLocals {
  /** The json stream (json_stream_next's parameter), then scratch: StringIO, its vstr, position, byte. */
  s: number;
  o: number;
  v: number;
  pos: number;
  c: number;
}

/** json_stream_next(s) as one i32 expression: the direct read when it applies, else the old body's call. */
function directRead(m: Module, slot: number, l: ReadLocals, label: string): number {
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const k = (n: number) => m.i32.const(n);
  const fast = m.if(
    m.i32.and(m.i32.eq(m.i32.load(READ, 4, get(l.s)), k(slot)), m.i32.eqz(m.i32.load(ERRCODE, 4, get(l.s)))),
    m.block(null, [
      m.local.set(l.o, m.i32.load(STREAM, 4, get(l.s))),
      m.if(
        m.local.tee(l.v, m.i32.load(VSTR, 4, get(l.o)), binaryen.i32),
        m.block(null, [
          m.local.set(l.pos, m.i32.load(POS, 4, get(l.o))),
          m.if(
            m.i32.lt_u(get(l.pos), m.i32.load(LEN, 4, get(l.v))),
            m.block(null, [
              m.local.set(l.c, m.i32.load8_u(0, 1, m.i32.add(m.i32.load(BUF, 4, get(l.v)), get(l.pos)))),
              m.i32.store(POS, 4, get(l.o), m.i32.add(get(l.pos), k(1))),
              m.i32.store8(CUR, 1, get(l.s), get(l.c)),
              m.br(label, 0, get(l.c)),
            ]),
          ),
          m.i32.store8(CUR, 1, get(l.s), k(0)),
          m.br(label, 0, k(0)),
        ]),
      ),
    ]),
  );
  return m.block(label, [fast, m.call(JSON_NEXT_OTHER_STREAMS, [get(l.s)], binaryen.i32)], binaryen.i32);
}

/** Replaces every `call next(stream)` with the direct read; returns how many. */
function inlineAtCalls(m: Module, next: string, slot: number): number {
  let count = 0;
  for (const name of definedFunctionNames(m)) {
    if (name === next) continue;
    const fn = m.getFunction(name);
    let locals: ReadLocals | null = null;
    for (const parent of expressions(binaryen.getFunctionInfo(fn).body)) {
      for (const call of children(parent)) {
        if (kind(call) !== binaryen.CallId || info(call).target !== next) continue;
        const [arg] = info(call).operands as number[];
        // The argument is evaluated once, into s; it holds no call (so no other read using these locals).
        if (expressions(arg).some((e) => [binaryen.CallId, binaryen.CallIndirectId].includes(kind(e)))) {
          throw new Error(`json-stream: ${name} calls json_stream_next with a stream computed by a call`);
        }
        locals ??= { s: 0, o: 0, v: 0, pos: 0, c: 0, ...Object.fromEntries(['s', 'o', 'v', 'pos', 'c'].map((key) => [key, FunctionNode.addVar(fn, binaryen.i32)])) };
        const read = m.block(null, [m.local.set(locals.s, arg), directRead(m, slot, locals, `pyfence_json_next_${count}`)], binaryen.i32);
        replaceChild(parent, call, read, name);
        count++;
      }
    }
  }
  if (count === 0) throw new Error('json-stream: json_stream_next has no calls to replace');
  return count;
}

/** Puts `replacement` where `child` is under `parent`: the parents the parser's calls have. */
function replaceChild(parent: number, child: number, replacement: number, where: string): void {
  const id = kind(parent);
  if (id === binaryen.DropId) DropNode.setValue(parent, replacement);
  else if (id === binaryen.LocalSetId) LocalSetNode.setValue(parent, replacement);
  else if (id === binaryen.BinaryId && info(parent).left === child) BinaryNode.setLeft(parent, replacement);
  else if (id === binaryen.BinaryId && info(parent).right === child) BinaryNode.setRight(parent, replacement);
  else throw new Error(`json-stream: a call of json_stream_next in ${where} sits where it cannot be replaced (expression kind ${id})`);
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
