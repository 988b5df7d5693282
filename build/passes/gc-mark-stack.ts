// MicroPython marks the heap depth first with a stack of MICROPY_ALLOC_GC_STACK_SIZE = 64 entries
// (MP_STATE_MEM(gc_block_stack) and, with the split heap this port has, gc_area_stack: a block index
// and its area per entry). Marking a block pushes every unmarked child it points to; past 64 the push
// is dropped and MP_STATE_MEM(gc_stack_overflow) set, and gc_collect_end then rescans the WHOLE heap
// for marked blocks and marks their children again, until a scan ends without overflow. Any list of
// more than 64 new items overflowed it: strbuild's lists of 30,000 strings cost it 9% more fuel.
//
// This gives the collector a stack of MARK_STACK_ENTRIES entries in a region of its own and raises
// the bound gc_mark_subtree compares with to match. Measured: the widest block the benchmark
// programs mark has 60,002 unmarked children (wordcount; strbuild 30,000, strdicts 23,988, csv_report
// 20,001, munging 14,999, the rest under 10,000), so 65,536 entries (512 KiB) remove every rescan
// there; a wider structure still overflows into the rescan, which is left as it was.
//
// The region is reserved past the static data: sbrk's break starts MARK_STACK_ENTRIES * 8 bytes past
// the linker's __heap_base, and the two arrays take the bytes in between (block indices, then areas).
// Nothing else uses that range: no code names an address in it (the static data and bss end before
// __heap_base, and sbrk's start word is the only reference to it), and malloc takes memory from sbrk
// only, above the new start. What moves: every heap address is 512 KiB higher, so id()s shift by
// that constant; and the guest's memory is 512 KiB larger (its pages are touched only as deep as a
// collection's stack goes). The collector's collect-or-grow policy (build/passes/mid-run-gc.ts) leaves
// the region out of the memory size it reads; memory still grows by a quarter of its size, so in a
// long run its steps, and the policy's choices, can differ from a build without the region.
//
// A larger stack only changes the order in which blocks are marked, never which: the same objects
// survive (test/gc-loop-unroll.test.ts: the same layout as with the region and a 64-entry bound). The
// region is guest memory, as the static arrays were: a guest that corrupts it can only corrupt its
// own heap. The pass changes constants only (no instruction added or removed) and runs before the
// meter, which charges the collector's code as any other.
//
// Found by structure, before binaryen's optimizations (gc_mark_subtree is one function, and a copy
// inlined in gc_collect_end): each push is `block { br_if (sp > 63); store [tee t (S + sp*4)] area;
// store [t] block; ... }` and each pop a load through `tee t (S + (sp - 1)*4)` followed by one
// through `t`, at offsets that put S + offset on the two arrays (found from the overflow flag's
// address). Every access to the arrays must be one of these, and sbrk's start word the one word
// sbrk loads and stores at a constant address; else the build stops.
import binaryen from 'binaryen';
import { ConstNode, dataSegments, LoadNode, StoreNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import { WASM_PAGE_BYTES } from '../../src/engine/abi.js';

/** Entries of the new stack (8 bytes each: a block index and its area). */
export const MARK_STACK_ENTRIES = 64 * 1024;
/** MICROPY_ALLOC_GC_STACK_SIZE in the pinned build. */
const OLD_ENTRIES = 64;
/** Two pushes and two pops: gc_mark_subtree and its copy in gc_collect_end. */
const EXPECTED = { pushes: 2, pops: 2 };
/** sbrk's start is 16-aligned (the allocator's alignment); so is the region's size. */
const ALIGN = 16;

export interface GcMarkStackReport {
  entries: number;
  /** The two arrays: block indices at `blocks`, areas at `areas`; ENTRIES * 4 bytes each. */
  blocks: number;
  areas: number;
  /** The old static arrays' addresses. */
  oldBlocks: number;
  oldAreas: number;
  /** Address of sbrk's start word, and the start before and after. */
  sbrkStart: { address: number; from: number; to: number };
  /** Functions rewritten (internal names). */
  functions: string[];
}

const isAccess = (e: number) => kind(e) === binaryen.LoadId || kind(e) === binaryen.StoreId;

/** `i32.add (i32.const S) (i32.shl x (i32.const 2))`: S, or null. */
function entryAddressBase(e: number): number | null {
  if (kind(e) !== binaryen.BinaryId || info(e).op !== binaryen.AddInt32) return null;
  const { left, right } = info(e);
  if (kind(left) !== binaryen.ConstId || kind(right) !== binaryen.BinaryId) return null;
  if (info(right).op !== binaryen.ShlInt32 || !isConst(info(right).right, 2)) return null;
  return info(left).value as number;
}

interface Pair {
  /** The access through `local.tee t (S + x*4)` and the one through `local.get t`. */
  first: number;
  second: number;
  base: number;
  /** The block the push sits in (null for a pop). */
  pushBlock: number | null;
}

/** The first load or store in `e` (source order) whose pointer is `local.get t`. */
function accessThrough(e: number, t: number): number | null {
  return expressions(e).find((x) => isAccess(x) && kind(info(x).ptr) === binaryen.LocalGetId && info(info(x).ptr).index === t) ?? null;
}

const setsLocal = (e: number, t: number) => expressions(e).some((x) => kind(x) === binaryen.LocalSetId && info(x).index === t);

/** Pairs of accesses to the stack arrays in consecutive statements of a block. */
function findPairs(body: number, onArrays: (address: number) => boolean): Pair[] {
  const pairs: Pair[] = [];
  for (const block of expressions(body).filter((e) => kind(e) === binaryen.BlockId)) {
    const stmts = info(block).children as number[];
    for (let k = 0; k + 1 < stmts.length; k++) {
      for (const first of expressions(stmts[k]).filter(isAccess)) {
        const tee = info(first).ptr;
        if (kind(tee) !== binaryen.LocalSetId || !info(tee).isTee) continue;
        const base = entryAddressBase(info(tee).value);
        if (base === null || !onArrays(base + info(first).offset)) continue;
        const t = info(tee).index as number;
        // t holds the entry's address from the tee to the next statement's access through it.
        const others = expressions(stmts[k]).filter((x) => x !== tee && kind(x) === binaryen.LocalSetId && info(x).index === t);
        const second = accessThrough(stmts[k + 1], t);
        if (others.length || second === null || setsLocal(stmts[k + 1], t) || !onArrays(base + info(second).offset)) continue;
        pairs.push({ first, second, base, pushBlock: kind(first) === binaryen.StoreId ? block : null });
      }
    }
  }
  return pairs;
}

/** A push's guard, the block's first statement: `br_if $block (i32.gt_u sp (i32.const OLD - 1))`: its constant. */
function pushBound(block: number): number {
  const [guard] = info(block).children as number[];
  const ok =
    guard !== undefined &&
    kind(guard) === binaryen.BreakId &&
    info(guard).name === info(block).name &&
    info(guard).condition &&
    kind(info(guard).condition) === binaryen.BinaryId &&
    info(info(guard).condition).op === binaryen.GtUInt32 &&
    isConst(info(info(guard).condition).right, OLD_ENTRIES - 1);
  if (!ok) throw new Error('gc mark stack: a push is not guarded by `sp > 63`');
  return info(info(guard).condition).right;
}

/** sbrk: the one function that calls the heap-size reader (`memory.size << 16`) and loads and stores one constant address. */
function sbrkStartWord(m: Module): number {
  const names = definedFunctionNames(m);
  const readers = new Set(names.filter((n) => expressions(binaryen.getFunctionInfo(m.getFunction(n)).body).some((e) => kind(e) === binaryen.MemorySizeId)));
  const found: number[] = [];
  for (const n of names) {
    const nodes = expressions(binaryen.getFunctionInfo(m.getFunction(n)).body);
    if (!nodes.some((e) => kind(e) === binaryen.CallId && readers.has(info(e).target))) continue;
    const at = (id: number) => new Set(nodes.filter((e) => kind(e) === id && kind(info(e).ptr) === binaryen.ConstId).map((e) => info(info(e).ptr).value + info(e).offset));
    const stored = at(binaryen.StoreId);
    for (const a of at(binaryen.LoadId)) if (stored.has(a)) found.push(a);
  }
  if (found.length !== 1) throw new Error(`gc mark stack: expected one sbrk start word, found ${found.length}`);
  return found[0];
}

/** The word at `address` in the one active data segment holding it; and where the static data ends. */
function readStaticWord(m: Module, address: number): { value: number; dataEnd: number } {
  const holders = dataSegments(m).filter((s) => s.offset !== null && s.offset <= address && address + 4 <= s.offset + s.data.byteLength);
  if (holders.length !== 1) throw new Error(`gc mark stack: ${holders.length} data segments hold the sbrk start word`);
  const value = new DataView(holders[0].data).getUint32(address - holders[0].offset!, true);
  const dataEnd = Math.max(...dataSegments(m).map((s) => (s.offset ?? 0) + s.data.byteLength));
  return { value, dataEnd };
}

/** Replaces the memory's data segments by the same with the word at `address` set to `value`. */
function writeStaticWord(m: Module, memoryName: string, address: number, value: number): void {
  const segments = dataSegments(m).map((s) => {
    const data = new Uint8Array(s.data.slice(0));
    if (s.offset !== null && s.offset <= address && address + 4 <= s.offset + data.length) new DataView(data.buffer).setUint32(address - s.offset, value, true);
    return { offset: s.offset === null ? 0 : m.i32.const(s.offset), data, passive: s.passive };
  });
  const mem = m.getMemoryInfo(memoryName);
  if (binaryen.getExportInfo(m.getExport('memory')).value !== memoryName) throw new Error('gc mark stack: the memory is not exported as "memory"');
  // setMemory replaces the memory and all its data segments; its export must be removed first.
  m.removeExport('memory');
  m.setMemory(mem.initial, mem.max ?? 65536, 'memory', segments as unknown as binaryen.MemorySegment[], mem.shared, mem.is64, memoryName);
}

/** `overflow`: the address of MP_STATE_MEM(gc_stack_overflow), which the arrays follow. */
export function enlargeMarkStack(m: Module, overflow: number, entries = MARK_STACK_ENTRIES): GcMarkStackReport {
  const oldBlocks = overflow + 4;
  const oldAreas = oldBlocks + OLD_ENTRIES * 4;
  const arrayOf = (a: number) => (a >= oldBlocks && a < oldAreas ? 'blocks' : a >= oldAreas && a < oldAreas + OLD_ENTRIES * 4 ? 'areas' : null);
  const onArrays = (a: number) => arrayOf(a) !== null;

  const pairs: Pair[] = [];
  const functions: string[] = [];
  for (const name of definedFunctionNames(m)) {
    const found = findPairs(binaryen.getFunctionInfo(m.getFunction(name)).body, onArrays);
    if (found.length) functions.push(name);
    pairs.push(...found);
  }
  const pushes = pairs.filter((p) => p.pushBlock !== null).length;
  if (pushes !== EXPECTED.pushes || pairs.length - pushes !== EXPECTED.pops) {
    throw new Error(`gc mark stack: expected ${EXPECTED.pushes} pushes and ${EXPECTED.pops} pops, found ${pushes} and ${pairs.length - pushes}`);
  }
  const base = pairs[0].base; // MP_STATE_CTX's address: the entries are at base + x*4 + offset
  const offsets = new Set([oldBlocks - base, oldAreas - base]);
  for (const p of pairs) {
    const at = [p.first, p.second].map((e) => p.base + info(e).offset).sort((x, y) => x - y);
    if (p.base !== base || at[0] !== oldBlocks || at[1] !== oldAreas) throw new Error('gc mark stack: a push or pop does not touch both arrays at one index');
  }
  // Nothing else may touch the arrays: no other access at their offsets from any pointer, none at a constant address in them.
  let accesses = 0;
  for (const name of definedFunctionNames(m)) {
    for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(name)).body).filter(isAccess)) {
      const ptr = info(e).ptr;
      if (offsets.has(info(e).offset) || (kind(ptr) === binaryen.ConstId && onArrays(info(ptr).value + info(e).offset))) accesses++;
    }
  }
  if (accesses !== 2 * pairs.length) throw new Error(`gc mark stack: ${accesses} accesses to the stack arrays, expected ${2 * pairs.length}`);

  const bounds = pairs.filter((p) => p.pushBlock !== null).map((p) => pushBound(p.pushBlock!));

  const memoryName = binaryen.getExportInfo(m.getExport('memory')).value;
  const sbrkAddress = sbrkStartWord(m);
  const regionBytes = entries * 8;
  if (regionBytes % ALIGN) throw new Error(`gc mark stack: ${entries} entries is not a multiple of ${ALIGN / 8}`);
  // sbrk's start is __heap_base: past the static data and bss (which hold the old arrays).
  const { value: heapBase, dataEnd } = readStaticWord(m, sbrkAddress);
  if (heapBase % ALIGN || heapBase < dataEnd || heapBase < oldAreas + OLD_ENTRIES * 4) throw new Error(`gc mark stack: sbrk starts at ${heapBase}, not past the static data`);
  const blocks = heapBase;
  const areas = heapBase + entries * 4;
  if (heapBase + regionBytes > m.getMemoryInfo(memoryName).initial * WASM_PAGE_BYTES) throw new Error('gc mark stack: the region is past the initial memory');
  writeStaticWord(m, memoryName, sbrkAddress, heapBase + regionBytes);

  for (const p of pairs) {
    for (const e of [p.first, p.second]) {
      const target = arrayOf(p.base + info(e).offset) === 'blocks' ? blocks : areas;
      (kind(e) === binaryen.LoadId ? LoadNode : StoreNode).setOffset(e, target - p.base);
    }
  }
  for (const bound of bounds) ConstNode.setValueI32(bound, entries - 1);
  return { entries, blocks, areas, oldBlocks, oldAreas, sbrkStart: { address: sbrkAddress, from: heapBase, to: heapBase + regionBytes }, functions };
}
