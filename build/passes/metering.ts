// Deterministic fuel: a wasm global counts down by the static cost of each loop iteration and of each
// entry into a function that can recurse; when it goes negative the host is called (to hand out the next
// slice, check the deadline, or stop the guest). The counter lives outside linear memory, so guest code
// that corrupts the interpreter's memory cannot change it.
import binaryen from 'binaryen';
import { FunctionNode, LoopNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { children } from '../walk.js';
import { callGraph, cycleBreakers } from '../call-graph.js';
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
  leafLoops: number;
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

export function injectFuelMetering(m: Module): MeteringReport {
  const functions = definedFunctionNames(m);
  const exported: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalFunction) exported.push(e.value);
  }
  const recursive = cycleBreakers(callGraph(m), exported);
  m.addGlobal(FUEL_GLOBAL, binaryen.i32, true, m.i32.const(0));
  m.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL_EXPORT);
  m.addFunctionImport(FUEL_FUNC, HOST_IMPORT_MODULE, FUEL_EXHAUSTED_IMPORT, binaryen.none, binaryen.none);
  const report: MeteringReport = { functions: functions.length, entryChecks: 0, loopChecks: 0, leafLoops: 0 };

  for (const name of functions) {
    const fn = m.getFunction(name);
    const loops: { loop: number; region: Region }[] = [];
    // Iterative walk: each loop starts a region of its own.
    const entry: Region = { cost: 0, inner: false };
    const stack: { expr: number; region: Region }[] = [{ expr: binaryen.getFunctionInfo(fn).body, region: entry }];
    while (stack.length) {
      const { expr, region } = stack.pop()!;
      region.cost++;
      let inner = region;
      const id = binaryen.getExpressionId(expr);
      if (id === binaryen.CallId || id === binaryen.CallIndirectId) region.inner = true;
      if (id === binaryen.LoopId) {
        region.inner = true;
        inner = { cost: 0, inner: false };
        loops.push({ loop: expr, region: inner });
      }
      for (const child of children(expr)) stack.push({ expr: child, region: inner });
    }
    let acc = -1;
    for (const { loop, region } of loops) {
      const body = LoopNode.getBody(loop);
      const cost = Math.min(region.cost, MAX_REGION_COST);
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
