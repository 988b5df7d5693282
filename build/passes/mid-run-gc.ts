// Garbage collection in the middle of a run. The port's gc_collect only sets a flag, and collection
// waits until control returns to the host, because the C roots it would need live in wasm locals,
// which nothing can scan. This pass makes those roots scannable and the collection real:
// 1. every i32 local that is live across a call that can reach gc_collect is stored to the C shadow
//    stack before that call (binaryen's spill-pointers, after flatten so that values left on the wasm
//    operand stack become locals too; coalesce-locals keeps the spill frames small);
// 2. gc_collect's body runs a collection that scans the shadow stack [sp, stack base) as well as the
//    root pointers and the pystack;
// 3. when the heap is full, gc_alloc asks a policy first (collectWhenFullBody): it collects if at least
//    half of memory's (logical) size was allocated since the last collection (or the cap stops growth),
//    and otherwise lets the heap grow (most of it is live: collecting again would free little); memory
//    reserved for the collector itself (the mark stack's region, build/passes/gc-mark-stack.ts) is not
//    counted, so reserving it does not move the collections;
// 4. every allocation, not only single-block ones, moves the allocator's search start past what it
//    took (nextFitAllocation), so searching after a collection does not rescan the same holes.
// Only functions that can reach gc_collect (calls into the host and indirect calls count as reaching
// it) are spilled: the rest cannot be on the stack during a collection with anything to lose.
//
// The bytecode VM (mp_execute_bytecode) is not spilled: spilling it costs +10% on every program, and
// it does not need it. It keeps Python values on its value stack and in its locals array, both inside
// the code state on the pystack, which the collection scans (up to pystack_cur, so popped slots are
// still seen); its own wasm locals hold interior pointers (ip, sp, fastn, code_state) and values just
// read from or about to be written to that stack; its exception state (nlr_buf) has its address taken,
// so it lives on the shadow stack. A value it holds in a local across a call is passed to that call,
// whose own frame spills it while it is live. test/gc.test.ts checks this with collections forced
// every few hundred bytes against the same programs run without collection.
import binaryen from 'binaryen';
import { callGraph, type CallGraph } from '../call-graph.js';
import { findBytecodeVm, findGcFunctions, findGcLayout, findSingleBlockHint, type GcFunctions, type GcLayout } from '../gc/find-gc.js';
import { expressions } from '../walk.js';
import { definedFunctionNames, importedFunctions, type Module } from '../wasm-inspect.js';
import { BreakNode, CallNode } from '../binaryen-extra.js';
import { GC_MAY_GROW_IMPORT, HOST_IMPORT_MODULE } from '../../src/engine/abi.js';

export interface MidRunGcReport extends GcFunctions, GcLayout {
  stackBase: number;
  /** Address of MP_STATE_MEM(gc_last_free_area), stored where gc_alloc's search hint is set. */
  lastFreeArea: number;
  /** Functions that can reach gc_collect and were given spill code. */
  spilledFunctions: number;
  /** The bytecode VM, left unspilled. */
  vm: string;
  /**
   * The collector and the helpers only it calls (reported only). The old build meter left them out
   * for cost (its capped per-iteration charge billed a sweep 100x its CPU); the one meter charges
   * them as any code, one unit per instruction, which bills a sweep at its CPU.
   */
  collector: string[];
  functions: number;
}

/** The stack pointer's initial value: the top of the C stack, which grows down. */
function stackBase(m: Module, sp: string): number {
  const init = binaryen.getGlobalInfo(m.getGlobal(sp)).init;
  if (binaryen.getExpressionId(init) !== binaryen.ConstId) throw new Error('mid-run GC: the stack pointer has no constant start');
  return (binaryen.getExpressionInfo(init) as binaryen.ConstInfo).value as number;
}

/** The i32 at a constant address. */
const loadWord = (m: Module, addr: number) => m.i32.load(0, 4, m.i32.const(addr));

/**
 * The new gc_collect. gc_collect_root is inlined into gc_collect_start in this binary, so the shadow
 * stack is scanned by pointing the pystack range at it for one call of gc_collect_start, then
 * restoring it for a second call (roots are already marked by then: cheap). The second call clears
 * the mark-stack overflow flag the first may have set, so it is saved and or-ed back.
 */
function collectBody(m: Module, sp: string, base: number, g: GcFunctions, lay: GcLayout): number {
  const load = (addr: number) => loadWord(m, addr);
  const store = (addr: number, v: number) => m.i32.store(0, 4, m.i32.const(addr), v);
  const local = (i: number) => m.local.get(i, binaryen.i32);
  const [START, CUR, OVERFLOW] = [0, 1, 2];
  return m.block(null, [
    m.local.set(START, load(lay.pystackStart)),
    m.local.set(CUR, load(lay.pystackCur)),
    store(lay.pystackStart, m.global.get(sp, binaryen.i32)),
    store(lay.pystackCur, m.i32.const(base)),
    m.call(g.gcCollectStart, [], binaryen.none),
    m.local.set(OVERFLOW, load(lay.overflow)),
    store(lay.pystackStart, local(START)),
    store(lay.pystackCur, local(CUR)),
    m.call(g.gcCollectStart, [], binaryen.none),
    store(lay.overflow, m.i32.or(load(lay.overflow), local(OVERFLOW))),
    m.call(g.gcCollectEnd, [], binaryen.none),
  ]);
}

const GC_WHEN_FULL = 'pyfence_gc_collect_when_full';
const GC_MAY_GROW = 'pyfence_gc_may_grow';
/** MicroPython's GC block size (BYTES_PER_BLOCK): gc_alloc_amount counts blocks. */
const BYTES_PER_BLOCK_SHIFT = 4;
/**
 * When the heap is full: collect if at least half of memory's (logical) size has been allocated
 * since the last collection (garbage is likely), or if the memory cap will not let memory double.
 * Otherwise grow: the heap is full of what survived the last collection, and collecting again would
 * free little (a growing live set would pay a full mark per few allocations). Keeping the heap
 * small matters beyond memory use: each fresh 4 KiB page costs a page fault on first touch (about
 * 14 us on the benchmark machine: 16 MiB of growth cost a program more than its own computation), and
 * a small heap stays in cache. A gc.threshold(n) set by the program collects every n bytes as before.
 */
function collectWhenFullBody(m: Module, g: GcFunctions, lay: GcLayout, memoryBytesGlobal: string, reservedBytes: number): number {
  const load = (addr: number) => loadWord(m, addr);
  const memoryBytes = () => m.global.get(memoryBytesGlobal, binaryen.i32);
  const allocatedBytes = m.i32.shl(load(lay.allocAmount), m.i32.const(BYTES_PER_BLOCK_SHIFT));
  const underThreshold = m.i32.lt_u(load(lay.allocAmount), load(lay.allocThreshold));
  // The reserved bytes lie below the initial memory size, which never shrinks: no wrap-around.
  const usable = reservedBytes ? m.i32.sub(memoryBytes(), m.i32.const(reservedBytes)) : memoryBytes();
  const littleAllocated = m.i32.lt_u(allocatedBytes, m.i32.shr_u(usable, m.i32.const(1)));
  return m.block(null, [
    m.if(
      m.i32.and(underThreshold, littleAllocated),
      m.if(m.call(GC_MAY_GROW, [memoryBytes()], binaryen.i32), m.return()),
    ),
    m.call(g.gcCollect, [], binaryen.none),
  ]);
}

/**
 * MicroPython's first-fit allocator moves its search start only after single-block allocations, since
 * skipped holes may still fit a later one-block object. A multi-block allocation then scans from the
 * first hole left by the last collection every time: collecting whenever a 1 MiB heap filled, the
 * `strings` benchmark took 149 ms with that search start and 81 ms with this one (112 ms growing the
 * heap instead of collecting). Letting every allocation move the start leaves the holes it skipped
 * unused until the next collection, which resets the start to the heap's beginning.
 */
function nextFitAllocation(m: Module, gcAlloc: string): number {
  const { branch, lastFreeArea } = findSingleBlockHint(m, gcAlloc);
  BreakNode.setCondition(branch, m.i32.const(0));
  return lastFreeArea;
}

/** Functions from which a chain of calls can reach `target` (host imports count as reaching it). */
function canReach(m: Module, graph: CallGraph, target: string): Set<string> {
  const imports = new Set(importedFunctions(m).map((f) => f.name));
  const reached = new Set<string>([target]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [fn, callees] of graph) {
      if (reached.has(fn)) continue;
      for (const c of callees) {
        if (reached.has(c) || imports.has(c)) {
          reached.add(fn);
          grew = true;
          break;
        }
      }
    }
  }
  return reached;
}

/**
 * `sp` must be named `__stack_pointer` in the module: binaryen's spill-pointers finds the stack
 * pointer only by that name (build/gc/stack-pointer-name.ts).
 */
/** `reservedBytes`: memory the collector keeps for itself, left out of the policy's memory size. */
export function enableMidRunGc(m: Module, sp: string, memoryBytesGlobal: string, reservedBytes = 0): MidRunGcReport {
  const g = findGcFunctions(m);
  const lay = findGcLayout(m, g);
  const base = stackBase(m, sp);
  const lastFreeArea = nextFitAllocation(m, lay.gcAlloc);
  const body = collectBody(m, sp, base, g, lay);
  m.removeFunction(g.gcCollect);
  m.addFunction(g.gcCollect, binaryen.none, binaryen.none, [binaryen.i32, binaryen.i32, binaryen.i32], body);

  m.addFunctionImport(GC_MAY_GROW, HOST_IMPORT_MODULE, GC_MAY_GROW_IMPORT, binaryen.i32, binaryen.i32);
  m.addFunction(GC_WHEN_FULL, binaryen.none, binaryen.none, [], collectWhenFullBody(m, g, lay, memoryBytesGlobal, reservedBytes));
  for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(lay.gcAlloc)).body)) {
    if (binaryen.getExpressionId(e) === binaryen.CallId && (binaryen.getExpressionInfo(e) as binaryen.CallInfo).target === g.gcCollect) {
      CallNode.setTarget(e, GC_WHEN_FULL);
    }
  }
  const vm = findBytecodeVm(m);
  // Spilling adds no calls: one call graph serves both analyses.
  const graph = callGraph(m);
  const reaching = canReach(m, graph, g.gcCollect);
  let spilled = 0;
  for (const name of definedFunctionNames(m)) {
    if (!reaching.has(name) || name === g.gcCollect || name === vm) continue;
    m.runPassesOnFunction(name, ['flatten', 'coalesce-locals', 'spill-pointers']);
    spilled++;
  }
  const collector = collectorFunctions(m, graph, [GC_WHEN_FULL, g.gcCollect, g.gcCollectStart, g.gcCollectEnd]);
  return { ...g, ...lay, lastFreeArea, stackBase: base, vm, collector, spilledFunctions: spilled, functions: definedFunctionNames(m).length };
}

/** `roots` and every function called only (directly) from them: not exported, not in the table. */
function collectorFunctions(m: Module, graph: CallGraph, roots: string[]): string[] {
  const callers = new Map<string, Set<string>>();
  for (const [fn, callees] of graph) {
    for (const c of callees) {
      if (!callers.has(c)) callers.set(c, new Set());
      callers.get(c)!.add(fn);
    }
  }
  const reachableOtherwise = new Set<string>();
  for (let i = 0; i < m.getNumExports(); i++) reachableOtherwise.add(binaryen.getExportInfo(m.getExportByIndex(i)).value);
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    for (const f of binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i)).data) reachableOtherwise.add(f);
  }
  const set = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const fn of set) {
      for (const c of graph.get(fn) ?? []) {
        if (set.has(c) || !graph.has(c) || reachableOtherwise.has(c)) continue;
        if ([...callers.get(c)!].every((caller) => set.has(caller))) {
          set.add(c);
          grew = true;
        }
      }
    }
  }
  return [...set];
}
