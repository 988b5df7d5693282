// Deterministic fuel: a wasm global counts down by the static cost of each loop iteration and of each
// entry into a function that can recurse; when it goes negative the host is called (to hand out the next
// slice, check the deadline, or stop the guest). The counter lives outside linear memory, so guest code
// that corrupts the interpreter's memory cannot change it.
import binaryen from 'binaryen';
import { FunctionNode, LoopNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { children } from '../walk.js';
import { callGraph, recursiveFunctions } from '../call-graph.js';
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
}

interface Region {
  /** Nodes executed per pass through this region, nested loops excluded. */
  cost: number;
}

/** Charges `cost` and calls the host when the counter goes negative. */
function charge(m: Module, cost: number): number {
  return m.block(null, [
    m.global.set(FUEL_GLOBAL, m.i32.sub(m.global.get(FUEL_GLOBAL, binaryen.i32), m.i32.const(cost))),
    m.if(m.i32.lt_s(m.global.get(FUEL_GLOBAL, binaryen.i32), m.i32.const(0)), m.call(FUEL_FUNC, [], binaryen.none)),
  ]);
}

export function injectFuelMetering(m: Module): MeteringReport {
  const functions = definedFunctionNames(m);
  const recursive = recursiveFunctions(callGraph(m));
  m.addGlobal(FUEL_GLOBAL, binaryen.i32, true, m.i32.const(0));
  m.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL_EXPORT);
  m.addFunctionImport(FUEL_FUNC, HOST_IMPORT_MODULE, FUEL_EXHAUSTED_IMPORT, binaryen.none, binaryen.none);
  const report: MeteringReport = { functions: functions.length, entryChecks: 0, loopChecks: 0 };

  for (const name of functions) {
    const fn = m.getFunction(name);
    const loops: { loop: number; region: Region }[] = [];
    // Iterative walk: each loop starts a region of its own.
    const entry: Region = { cost: 0 };
    const stack: { expr: number; region: Region }[] = [{ expr: binaryen.getFunctionInfo(fn).body, region: entry }];
    while (stack.length) {
      const { expr, region } = stack.pop()!;
      region.cost++;
      let inner = region;
      if (binaryen.getExpressionId(expr) === binaryen.LoopId) {
        inner = { cost: 0 };
        loops.push({ loop: expr, region: inner });
      }
      for (const child of children(expr)) stack.push({ expr: child, region: inner });
    }
    for (const { loop, region } of loops) {
      const body = LoopNode.getBody(loop);
      const cost = Math.min(region.cost, MAX_REGION_COST);
      LoopNode.setBody(loop, m.block(null, [charge(m, cost), body], binaryen.getExpressionType(body)));
      report.loopChecks++;
    }
    // Without loops, only recursion can run unbounded: functions on a call cycle check at entry.
    if (recursive.has(name)) {
      const body = binaryen.getFunctionInfo(fn).body;
      const results = binaryen.getFunctionInfo(fn).results;
      FunctionNode.setBody(fn, m.block(null, [charge(m, Math.min(entry.cost, MAX_REGION_COST)), body], results));
      report.entryChecks++;
    }
  }
  return report;
}
