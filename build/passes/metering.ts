// Deterministic fuel: a wasm global counts down by the static cost of each loop iteration and of each
// entry into a function that can recurse; when it goes negative the host is called (to hand out the next
// slice, check the deadline, or stop the guest). The counter lives outside linear memory, so guest code
// that corrupts the interpreter's memory cannot change it.
import binaryen from 'binaryen';
import { BlockNode, FunctionNode, LoopNode } from '../binaryen-extra.js';
import { matchCountedLoop, type CountedLoop } from '../counted-loops.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { children } from '../walk.js';
import { bypassing, callGraph, cycleBreakers } from '../call-graph.js';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../../src/engine/abi.js';


const FUEL_GLOBAL = 'pyfence_fuel';
/**
 * A region's cost is its node count, capped: a big loop body (the VM's dispatch loop holds every
 * opcode) runs only a small part of itself per iteration, while small loops (memcpy-like) run all.
 */
const MAX_REGION_COST = 48;
const FUEL_FUNC = 'pyfence_fuel_exhausted';

export interface MeteringReport {
  functions: number;
  entryChecks: number;
  loopChecks: number;
  /** Leaf loops charged per iteration through a local accumulator. */
  leafLoops: number;
  /** Counted leaf loops charged once, before they start (build/counted-loops.ts). */
  countedLoops: number;
}

/** Counted loops charge at most this many iterations up front (bounds the i32 product). */
const MAX_PREPAID_TRIPS = 1 << 24;

/**
 * Charges a counted loop before it starts: an upper bound of its trips, from the entry values of its
 * locals (capped so the product fits in i32), times its per-iteration cost. `q` is a scratch local.
 */
function prepay(m: Module, c: CountedLoop, cost: number, q: number): number {
  const i = () => m.local.get(c.induction, binaryen.i32);
  const n = () => m.local.get(c.bound, binaryen.i32);
  const [hi, lo] = c.ascending ? [n, i] : [i, n];
  const getQ = () => m.local.get(q, binaryen.i32);
  const cap = () => m.i32.const(MAX_PREPAID_TRIPS);
  return m.block(null, [
    m.local.set(q, m.select(m.i32.gt_u(hi(), lo()), m.i32.div_u(m.i32.sub(hi(), lo()), m.i32.const(c.step)), m.i32.const(0))),
    m.local.set(q, m.select(m.i32.lt_u(getQ(), cap()), getQ(), cap())),
    charge(m, (mm) => mm.i32.mul(mm.i32.add(getQ(), mm.i32.const(2)), mm.i32.const(cost))),
  ]);
}

interface Region {
  /** Nodes executed per pass through this region, nested loops excluded. */
  cost: number;
  /** Has calls or nested loops: only a region without either is a leaf loop. */
  inner: boolean;
}

/**
 * Leaf loops (no calls, no nested loops: memcpy-, strlen-, hash-like) are where a check costs most
 * relative to the body. They add their cost to a local register instead, and settle with the global
 * (and check) once the local reaches this many units. What is left in the local when the function
 * returns (< LEAF_BATCH) is not charged: deterministic, and still a check every few hundred
 * iterations of any loop.
 */
const LEAF_BATCH = 1024;

/** Charges `cost` and calls the host when the counter goes negative. */
function charge(m: Module, cost: number | ((m: Module) => number)): number {
  const amount = typeof cost === 'number' ? m.i32.const(cost) : cost(m);
  return m.block(null, [
    m.global.set(FUEL_GLOBAL, m.i32.sub(m.global.get(FUEL_GLOBAL, binaryen.i32), amount)),
    m.if(m.i32.lt_s(m.global.get(FUEL_GLOBAL, binaryen.i32), m.i32.const(0)), m.call(FUEL_FUNC, [], binaryen.none)),
  ]);
}

/** Adds `cost` to the local accumulator; settles it with the global once it reaches LEAF_BATCH. */
function chargeLeaf(m: Module, acc: number, cost: number): number {
  const get = () => m.local.get(acc, binaryen.i32);
  return m.block(null, [
    m.local.set(acc, m.i32.add(get(), m.i32.const(cost))),
    m.if(
      m.i32.ge_u(get(), m.i32.const(LEAF_BATCH)),
      m.block(null, [charge(m, get), m.local.set(acc, m.i32.const(0))]),
    ),
  ]);
}

/** `unmetered`: functions that are bounded without metering (the garbage collector's). */
export function injectFuelMetering(m: Module, unmetered: ReadonlySet<string> = new Set()): MeteringReport {
  const functions = definedFunctionNames(m);
  const exported: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalFunction) exported.push(e.value);
  }
  const recursive = cycleBreakers(bypassing(callGraph(m), unmetered), exported);
  m.addGlobal(FUEL_GLOBAL, binaryen.i32, true, m.i32.const(0));
  m.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL_EXPORT);
  m.addFunctionImport(FUEL_FUNC, HOST_IMPORT_MODULE, FUEL_EXHAUSTED_IMPORT, binaryen.none, binaryen.none);
  const report: MeteringReport = {
    functions: functions.length,
    entryChecks: 0,
    loopChecks: 0,
    leafLoops: 0,
    countedLoops: 0,
  };

  for (const name of functions) {
    if (unmetered.has(name)) continue;
    const fn = m.getFunction(name);
    /** A loop, and the block holding it (to put a prepaid charge in front of it), if any. */
    const loops: { loop: number; region: Region; parent: { block: number; index: number } | null }[] = [];
    // Iterative walk: each loop starts a region of its own.
    const entry: Region = { cost: 0, inner: false };
    type Item = { expr: number; region: Region; parent: { block: number; index: number } | null };
    const stack: Item[] = [{ expr: binaryen.getFunctionInfo(fn).body, region: entry, parent: null }];
    while (stack.length) {
      const { expr, region, parent } = stack.pop()!;
      region.cost++;
      let inner = region;
      const id = binaryen.getExpressionId(expr);
      if (id === binaryen.CallId || id === binaryen.CallIndirectId) region.inner = true;
      if (id === binaryen.LoopId) {
        region.inner = true;
        inner = { cost: 0, inner: false };
        loops.push({ loop: expr, region: inner, parent });
      }
      const isBlock = id === binaryen.BlockId;
      children(expr).forEach((child, index) =>
        stack.push({ expr: child, region: inner, parent: isBlock ? { block: expr, index } : null }),
      );
    }
    let acc = -1;
    let scratch = -1;
    for (const { loop, region, parent } of loops) {
      const body = LoopNode.getBody(loop);
      const cost = Math.min(region.cost, MAX_REGION_COST);
      const counted = parent ? matchCountedLoop(loop) : null;
      if (counted && parent) {
        if (scratch < 0) scratch = FunctionNode.addVar(fn, binaryen.i32);
        const prepaid = m.block(null, [prepay(m, counted, cost, scratch), loop], binaryen.getExpressionType(loop));
        BlockNode.setChildAt(parent.block, parent.index, prepaid);
        report.countedLoops++;
        continue;
      }
      let check: number;
      if (region.inner) {
        check = charge(m, cost);
      } else {
        if (acc < 0) acc = FunctionNode.addVar(fn, binaryen.i32);
        check = chargeLeaf(m, acc, cost);
        report.leafLoops++;
      }
      LoopNode.setBody(loop, m.block(null, [check, body], binaryen.getExpressionType(body)));
      report.loopChecks++;
    }
    // Without loops, only recursion can run unbounded: one function on every call cycle checks at entry.
    if (recursive.has(name)) {
      const body = binaryen.getFunctionInfo(fn).body;
      const results = binaryen.getFunctionInfo(fn).results;
      FunctionNode.setBody(fn, m.block(null, [charge(m, Math.min(entry.cost, MAX_REGION_COST)), body], results));
      report.entryChecks++;
    }
  }
  return report;
}
