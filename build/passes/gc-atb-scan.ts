// gc_alloc finds free blocks by walking the allocation table (ATB: 2 bits per block, 4 blocks per
// byte, FREE = 0) one byte at a time from the area's search start, testing each of the byte's 4
// fields. Behind the start lie the blocks that survived the last collection, and a multi-block
// allocation rescans that full or fragmented stretch every time: on json_logs the scan was about a
// quarter of the run.
//
// This adds a first step to each of gc_alloc's byte loops: while at least one byte beyond the next
// eight remains and those eight bytes (32 blocks) hold no free field, move eight bytes at once (and
// the run of free blocks counted so far is 0). That is exactly what eight rounds of the byte loop do
// on such bytes (every field taken: the count resets, no run is found, the loop goes on), so the run
// chosen (first fit from the same start), the heap's layout and the program's output are unchanged.
// The step never reads past the table: it needs `i + 8 < len`, and then the original body still
// handles byte i, so the loop's exits and the values it leaves behind come from the original code.
//
// Found by structure: a loop in gc_alloc that ends in `br_if $loop ((i = i + 1) != len)` and whose
// first block is `br_if $block ((b = load8_u (atb + i)) & 3)` followed either by the multi-block
// test `br_if $found ((n_free + 1) >= n_blocks)` or by the single-block exit `local.set 1; br $found`.
import binaryen from 'binaryen';
import { FunctionNode, LoopNode } from '../binaryen-extra.js';
import { type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, isGet, kind } from '../walk.js';

export interface GcAtbScanReport {
  /** gc_alloc, by its internal name. */
  function: string;
  /** Byte loops that got the eight-byte step: those that count a run of free blocks... */
  multiBlockLoops: number;
  /** ...and the single-block search's. */
  singleBlockLoops: number;
}

/** gc_alloc in MicroPython 1.27: one single-block search and the multi-block search twice (before and after adding a heap area). */
const EXPECTED = { single: 1, multi: 2 };

const isSet = (e: number) => kind(e) === binaryen.LocalSetId;
const isBinary = (e: number, op: number) => kind(e) === binaryen.BinaryId && info(e).op === op;
const childrenOf = (e: number) => (kind(e) === binaryen.BlockId ? (info(e).children as number[]) : [e]);

interface ByteLoop {
  body: number;
  /** ATB byte index. */
  i: number;
  /** The area's ATB length in bytes. */
  len: number;
  /** The ATB's start address. */
  atb: number;
  /** The local the loop loads each ATB byte into. */
  b: number;
  /** The count of consecutive free blocks (multi-block loops only). */
  nFree: number | null;
}

/** `br_if $loop ((i = tee (i + 1)) != len)`: { i, len }. */
function backEdge(loop: number, e: number): { i: number; len: number } | null {
  if (kind(e) !== binaryen.BreakId || info(e).name !== info(loop).name || !info(e).condition) return null;
  const c = info(e).condition;
  if (!isBinary(c, binaryen.NeInt32)) return null;
  const tee = info(c).left;
  if (!isSet(tee) || !info(tee).isTee || kind(info(c).right) !== binaryen.LocalGetId) return null;
  const i = info(tee).index as number;
  if (!isBinary(info(tee).value, binaryen.AddInt32) || !isGet(info(info(tee).value).left, i) || !isConst(info(info(tee).value).right, 1)) return null;
  return { i, len: info(info(c).right).index as number };
}

/** `block { br_if $block ((b = load8_u (atb + i)) & 3); ... }`: { atb, the rest of the block }. */
function firstFieldTest(block: number, i: number): { atb: number; b: number; rest: number[] } | null {
  if (kind(block) !== binaryen.BlockId) return null;
  const [test, ...rest] = info(block).children as number[];
  if (test === undefined || kind(test) !== binaryen.BreakId || info(test).name !== info(block).name || !info(test).condition) return null;
  const and = info(test).condition;
  if (!isBinary(and, binaryen.AndInt32) || !isConst(info(and).right, 3)) return null;
  const tee = info(and).left;
  if (!isSet(tee) || !info(tee).isTee) return null;
  const load = info(tee).value;
  if (kind(load) !== binaryen.LoadId || info(load).bytes !== 1 || info(load).isSigned || info(load).offset !== 0) return null;
  const ptr = info(load).ptr;
  if (!isBinary(ptr, binaryen.AddInt32) || kind(info(ptr).left) !== binaryen.LocalGetId || !isGet(info(ptr).right, i)) return null;
  return { atb: info(info(ptr).left).index as number, b: info(tee).index as number, rest };
}

/** The multi-block test `br_if $found ((tee (n_free + 1)) >= n_blocks)`: n_free; null for the single-block exit. */
function runCounter(rest: number[]): number | null | undefined {
  if (rest.length === 2 && isSet(rest[0]) && !info(rest[0]).isTee && isConst(info(rest[0]).value, 1)) {
    if (kind(rest[1]) === binaryen.BreakId && !info(rest[1]).condition) return null;
  }
  if (rest.length !== 1 || kind(rest[0]) !== binaryen.BreakId || !info(rest[0]).condition) return undefined;
  const c = info(rest[0]).condition;
  if (!isBinary(c, binaryen.GeUInt32) || !isSet(info(c).left) || !info(info(c).left).isTee) return undefined;
  const add = info(info(c).left).value;
  if (!isBinary(add, binaryen.AddInt32) || kind(info(add).left) !== binaryen.LocalGetId || !isConst(info(add).right, 1)) return undefined;
  return info(info(add).left).index as number;
}

function byteLoop(loop: number): ByteLoop | null {
  const body = info(loop).body;
  const stmts = childrenOf(body);
  const edge = backEdge(loop, stmts[stmts.length - 1]);
  if (!edge) return null;
  const first = stmts.find((e) => kind(e) === binaryen.BlockId);
  if (first === undefined) return null;
  const field = firstFieldTest(first, edge.i);
  if (!field) return null;
  const nFree = runCounter(field.rest);
  if (nFree === undefined) return null;
  const all = expressions(body);
  // Nothing else branches back, and i (but for the back edge), len and atb are only read.
  if (all.filter((e) => kind(e) === binaryen.BreakId && info(e).name === info(loop).name).length !== 1) return null;
  const writes = (local: number) => all.filter((e) => isSet(e) && info(e).index === local).length;
  if (writes(edge.i) !== 1 || writes(edge.len) !== 0 || writes(field.atb) !== 0) return null;
  if (new Set([edge.i, edge.len, field.atb, field.b, nFree ?? -1]).size !== 5) return null;
  if (all.some((e) => kind(e) === binaryen.CallId || kind(e) === binaryen.CallIndirectId)) return null;
  return { body, i: edge.i, len: edge.len, atb: field.atb, b: field.b, nFree };
}

/** binaryen.js 132 takes one bigint for an i64 constant; its type declarations still say (low, high). */
const i64 = (m: Module, v: bigint) => (m.i64.const as unknown as (v: bigint) => number)(BigInt.asIntN(64, v));
/** The low bit of every 2-bit field: a field is taken (non-zero) iff its bit is set in `w | w >> 1`. */
const FIELD_LOW_BITS = 0x5555555555555555n;
const SKIP_BYTES = 8;

/** `if (no free field in b) while (i + 8 < len && no free field in atb[i .. i+8)) { i += 8; n_free = 0; }` */
function skipFullBytes(m: Module, l: ByteLoop, w: number, label: string): number {
  const get = (x: number) => m.local.get(x, binaryen.i32);
  const out = `${label}$out`;
  const word = m.local.tee(w, m.i64.load(0, 1, m.i32.add(get(l.atb), get(l.i))), binaryen.i64);
  const taken = m.i64.and(m.i64.or(word, m.i64.shr_u(m.local.get(w, binaryen.i64), i64(m, 1n))), i64(m, FIELD_LOW_BITS));
  const prev = get(l.b);
  const prevTaken = m.i32.and(m.i32.or(prev, m.i32.shr_u(get(l.b), m.i32.const(1))), m.i32.const(0x55));
  return m.block(out, [
    // Only after a byte with every field taken (b holds the last byte read; on entry, an older value:
    // it only decides whether to look), so fragmented stretches pay little for the look.
    m.br(out, m.i32.ne(prevTaken, m.i32.const(0x55))),
    m.loop(
      label,
      m.block(null, [
        m.br(out, m.i32.ge_u(m.i32.add(get(l.i), m.i32.const(SKIP_BYTES)), get(l.len))),
        m.br(out, m.i64.ne(taken, i64(m, FIELD_LOW_BITS))),
        m.local.set(l.i, m.i32.add(get(l.i), m.i32.const(SKIP_BYTES))),
        ...(l.nFree === null ? [] : [m.local.set(l.nFree, m.i32.const(0))]),
        m.br(label),
      ]),
    ),
  ]);
}

export function skipFullAllocationTableBytes(m: Module, gcAlloc: string): GcAtbScanReport {
  const fn = m.getFunction(gcAlloc);
  const loops = expressions(binaryen.getFunctionInfo(fn).body)
    .filter((e) => kind(e) === binaryen.LoopId)
    .map((loop) => ({ loop, scan: byteLoop(loop) }))
    .filter((x) => x.scan !== null);
  const multi = loops.filter((x) => x.scan!.nFree !== null).length;
  const single = loops.length - multi;
  if (multi !== EXPECTED.multi || single !== EXPECTED.single) {
    throw new Error(`gc ATB scan: expected ${EXPECTED.single} single-block and ${EXPECTED.multi} multi-block byte loops in gc_alloc, found ${single} and ${multi}`);
  }
  const w = FunctionNode.addVar(fn, binaryen.i64);
  loops.forEach(({ loop, scan }, k) => {
    const step = skipFullBytes(m, scan!, w, `pyfence_atb_skip_${k}`);
    LoopNode.setBody(loop, m.block(null, [step, scan!.body], binaryen.getExpressionType(scan!.body)));
  });
  return { function: gcAlloc, multiBlockLoops: multi, singleBlockLoops: single };
}
