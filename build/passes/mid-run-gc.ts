// Garbage collection in the middle of a run. The port's gc_collect only sets a flag, and collection
// waits until control returns to the host, because the C roots it would need live in wasm locals,
// which nothing can scan. This pass makes those roots scannable and the collection real:
// 1. every i32 local that is live across a call that can reach gc_collect is stored to the C shadow
//    stack before that call (binaryen's spill-pointers, after flatten so that values left on the wasm
//    operand stack become locals too; coalesce-locals keeps the spill frames small);
// 2. gc_collect's body runs a collection that scans the shadow stack [sp, stack base) as well as the
//    root pointers and the pystack;
// 3. when the heap is full, gc_alloc asks a policy first (collectWhenFullBody): it grows the heap while
//    the memory cap allows doubling it, and collects only once it does not.
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
import { findBytecodeVm, findGcFunctions, findGcLayout, type GcFunctions, type GcLayout } from '../gc/find-gc.js';
import { expressions } from '../walk.js';
import { definedFunctionNames, importedFunctions, type Module } from '../wasm-inspect.js';
import { CallNode } from '../binaryen-extra.js';
import { GC_MAY_GROW_IMPORT, HOST_IMPORT_MODULE } from '../../src/engine/abi.js';

export interface MidRunGcReport extends GcFunctions, GcLayout {
  stackBase: number;
  /** Functions that can reach gc_collect and were given spill code. */
  spilledFunctions: number;
  /** The bytecode VM, left unspilled. */
  vm: string;
  /**
   * The collector and the helpers only it calls. Metering leaves them out: a collection is bounded by
   * the heap, which the memory cap bounds, and charging its loops per iteration would bill a 1 MiB
   * heap's sweep like 20 ms of bytecode when it takes 0.2 ms.
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

/**
 * The new gc_collect. gc_collect_root is inlined into gc_collect_start in this binary, so the shadow
 * stack is scanned by pointing the pystack range at it for one call of gc_collect_start, then
 * restoring it for a second call (roots are already marked by then: cheap). The second call clears
 * the mark-stack overflow flag the first may have set, so it is saved and or-ed back.
 */
/** The i32 at a constant address. */
const loadWord = (m: Module, addr: number) => m.i32.load(0, 4, m.i32.const(addr));

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
/**
 * When the heap is full, collect only if the memory cap will not let it double: below the cap it grows
 * as it did before. Collections leave holes between live objects, and MicroPython's first-fit
 * allocator scans past every hole on each multi-block allocation, so collecting early made programs
 * that build large structures alongside temporaries up to 40x slower (a list of 200k strings: 0.6 s
 * became 25 s). Collecting at the cap turns what was a MemoryError into a slower success; a
 * gc.threshold(n) set by the program is honoured as before.
 */
function collectWhenFullBody(m: Module, g: GcFunctions, lay: GcLayout): number {
  const load = (addr: number) => loadWord(m, addr);
  const memoryBytes = m.i32.shl(m.memory.size(), m.i32.const(16));
  return m.block(null, [
    m.if(m.i32.lt_u(load(lay.allocAmount), load(lay.allocThreshold)), m.if(m.call(GC_MAY_GROW, [memoryBytes], binaryen.i32), m.return())),
    m.call(g.gcCollect, [], binaryen.none),
  ]);
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
export function enableMidRunGc(m: Module, sp: string): MidRunGcReport {
  const g = findGcFunctions(m);
  const lay = findGcLayout(m, g);
  const base = stackBase(m, sp);
  const body = collectBody(m, sp, base, g, lay);
  m.removeFunction(g.gcCollect);
  m.addFunction(g.gcCollect, binaryen.none, binaryen.none, [binaryen.i32, binaryen.i32, binaryen.i32], body);

  m.addFunctionImport(GC_MAY_GROW, HOST_IMPORT_MODULE, GC_MAY_GROW_IMPORT, binaryen.i32, binaryen.i32);
  m.addFunction(GC_WHEN_FULL, binaryen.none, binaryen.none, [], collectWhenFullBody(m, g, lay));
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
  return { ...g, ...lay, stackBase: base, vm, collector, spilledFunctions: spilled, functions: definedFunctionNames(m).length };
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
