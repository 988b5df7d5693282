// Load-time instrumentation of any module: deterministic fuel and host-checked growth.
// - Fuel: a wasm global counts down by the static cost of each loop iteration and of each entry into
//   a function that makes calls (only calls can recurse, so leaf functions without loops are bounded);
//   when it goes negative the host is called (src/engine/fuel.ts hands out slices, checks the deadline).
// - memory.grow and table.grow get their delta from a host import that sees the current size and the
//   delta and answers either the delta or -1 (which makes the grow fail): the cap holds whatever the
//   guest declared as its maximum, and it lives outside linear memory.
// The added names cannot collide with the guest's: it was refused if it imported from "pyfence".
import type binaryenT from 'binaryen';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../engine/abi.js';
import { makeChildren, UnsupportedExpression } from './walk.js';

type Binaryen = typeof binaryenT;
type Module = binaryenT.Module;

export const MEMORY_GROW_IMPORT = 'memory_grow_delta';
export const TABLE_GROW_IMPORT = 'table_grow_delta';
/** The guest's memory, exported under this name too (WASI needs it; usage reports its size). */
export const MEMORY_EXPORT = 'pyfence_memory';

const FUEL_GLOBAL = 'pyfence$fuel';
const FUEL_FUNC = 'pyfence$fuel_exhausted';
const MEMORY_FUNC = 'pyfence$memory_grow_delta';
const TABLE_FUNC = 'pyfence$table_grow_delta';
/** A big loop body runs only part of itself per iteration: its cost is capped. */
const MAX_REGION_COST = 48;
/** Charged at a call_indirect site when those sites break the indirect call cycles. */
const INDIRECT_CALL_COST = 8;
/** Loops add to a local and settle with the global every this many units. */
const LOOP_BATCH = 1024;

export const FEATURES = (b: Binaryen) =>
  b.Features.MVP |
  b.Features.MutableGlobals |
  b.Features.NontrappingFPToInt |
  b.Features.SignExt |
  b.Features.BulkMemory |
  b.Features.BulkMemoryOpt |
  b.Features.SIMD128 |
  b.Features.ReferenceTypes |
  b.Features.Multivalue |
  b.Features.TailCall |
  b.Features.ExtendedConst;

export interface MeterReport {
  functions: number;
  loopChecks: number;
  entryChecks: number;
  growSites: number;
}

interface Region {
  cost: number;
  /** Holds a call or a nested loop. */
  inner: boolean;
}

type Ext = {
  _BinaryenFunctionAddVar(fn: number, type: number): number;
  MemoryGrow: { getDelta(e: number): number; setDelta(e: number, d: number): void };
  TableGrow: { getTable(e: number): string; getDelta(e: number): number; setDelta(e: number, d: number): void };
  Loop: { getBody(e: number): number; setBody(e: number, b: number): void };
  Function: { setBody(fn: number, b: number): void };
};

export function meter(b: Binaryen, m: Module): MeterReport {
  const ext = b as unknown as Ext;
  const children = makeChildren(b);
  const i32 = b.i32;
  const defined: string[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = b.getFunctionInfo(m.getFunctionByIndex(i));
    if (!info.module) defined.push(info.name);
  }
  m.addGlobal(FUEL_GLOBAL, i32, true, m.i32.const(0));
  m.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL_EXPORT);
  m.addFunctionImport(FUEL_FUNC, HOST_IMPORT_MODULE, FUEL_EXHAUSTED_IMPORT, b.none, b.none);
  m.addFunctionImport(MEMORY_FUNC, HOST_IMPORT_MODULE, MEMORY_GROW_IMPORT, b.createType([i32, i32]), i32);
  m.addFunctionImport(TABLE_FUNC, HOST_IMPORT_MODULE, TABLE_GROW_IMPORT, b.createType([i32, i32]), i32);
  exportMemory(b, m);

  const charge = (amount: number) =>
    m.block(null, [
      m.global.set(FUEL_GLOBAL, m.i32.sub(m.global.get(FUEL_GLOBAL, i32), amount)),
      m.if(m.i32.lt_s(m.global.get(FUEL_GLOBAL, i32), m.i32.const(0)), m.call(FUEL_FUNC, [], b.none)),
    ]);
  const report: MeterReport = { functions: defined.length, loopChecks: 0, entryChecks: 0, growSites: 0 };

  // The call graph, for entry checks: direct calls by name; call_indirect may reach any function
  // in a table or taken by ref.func (one pseudo-node stands for "any of them").
  const callees = new Map<string, Set<string>>();
  const indirectTargets = new Set<string>();
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    for (const f of b.getElementSegmentInfo(m.getElementSegmentByIndex(i)).data) indirectTargets.add(f);
  }
  const entryCosts = new Map<string, number>();
  const refFunc = (b as unknown as { RefFunc: { getFunc(e: number): string } }).RefFunc;
  const callTarget = (b as unknown as { Call: { getTarget(e: number): string } }).Call;
  const callIndirect = (b as unknown as { CallIndirect: { getTarget(e: number): number; setTarget(e: number, t: number): void } }).CallIndirect;
  const indirectSites: number[] = [];

  for (const name of defined) {
    const fn = m.getFunction(name);
    const calls = new Set<string>();
    callees.set(name, calls);
    const body = b.getFunctionInfo(fn).body;
    const entry: Region = { cost: 0, inner: false };
    const loops: { loop: number; region: Region }[] = [];
    const stack: { expr: number; region: Region }[] = [{ expr: body, region: entry }];
    while (stack.length) {
      const { expr, region } = stack.pop()!;
      region.cost++;
      let inner = region;
      const id = b.getExpressionId(expr);
      if (id === b.CallId) {
        region.inner = true;
        calls.add(callTarget.getTarget(expr));
      } else if (id === b.CallIndirectId) {
        region.inner = true;
        calls.add(ANY_INDIRECT);
        indirectSites.push(expr);
      } else if (id === b.RefFuncId) indirectTargets.add(refFunc.getFunc(expr));
      else if (id === b.LoopId) {
        region.inner = true;
        inner = { cost: 0, inner: false };
        loops.push({ loop: expr, region: inner });
      } else if (id === b.MemoryGrowId) {
        // Single-memory modules only (multi-memory is not enabled): memory.size names memory 0.
        const delta = m.call(MEMORY_FUNC, [m.memory.size(), ext.MemoryGrow.getDelta(expr)], i32);
        ext.MemoryGrow.setDelta(expr, delta);
        report.growSites++;
      } else if (id === b.TableGrowId) {
        const table = ext.TableGrow.getTable(expr);
        ext.TableGrow.setDelta(expr, m.call(TABLE_FUNC, [m.table.size(table), ext.TableGrow.getDelta(expr)], i32));
        report.growSites++;
      }
      for (const child of children(expr)) stack.push({ expr: child, region: inner });
    }
    let acc = -1;
    for (const { loop, region } of loops) {
      const cost = Math.min(region.cost, MAX_REGION_COST);
      // Loops batch their charge in a local and settle with the global every LOOP_BATCH units: a
      // global write per iteration is where metering costs most. What is left in the local when
      // the function returns (< LOOP_BATCH) is not charged: deterministic, and still a check every
      // few hundred iterations of any loop.
      if (acc < 0) acc = ext._BinaryenFunctionAddVar(fn, i32);
      const get = () => m.local.get(acc, i32);
      const check = m.block(null, [
        m.local.set(acc, m.i32.add(get(), m.i32.const(cost))),
        m.if(m.i32.ge_u(get(), m.i32.const(LOOP_BATCH)), m.block(null, [charge(get()), m.local.set(acc, m.i32.const(0))])),
      ]);
      const loopBody = ext.Loop.getBody(loop);
      ext.Loop.setBody(loop, m.block(null, [check, loopBody], b.getExpressionType(loopBody)));
      report.loopChecks++;
    }
    entryCosts.set(name, Math.min(entry.cost, MAX_REGION_COST));
  }
  // Without loops, only recursion runs unbounded: every call cycle passes a check. The checks go
  // where they break the most cycles (cycleBreakers); "any indirect target" as a breaker means a
  // check at every call_indirect site.
  callees.set(ANY_INDIRECT, indirectTargets);
  const breakers = cycleBreakers(callees);
  if (breakers.has(ANY_INDIRECT)) {
    for (const site of indirectSites) {
      callIndirect.setTarget(site, m.block(null, [charge(m.i32.const(INDIRECT_CALL_COST)), callIndirect.getTarget(site)], i32));
      report.entryChecks++;
    }
  }
  for (const name of breakers) {
    if (name === ANY_INDIRECT) continue;
    const fn = m.getFunction(name);
    const info = b.getFunctionInfo(fn);
    ext.Function.setBody(fn, m.block(null, [charge(m.i32.const(entryCosts.get(name)!)), info.body], info.results));
    report.entryChecks++;
  }
  return report;
}

/** Stands for every function call_indirect may reach (cannot collide: binaryen names have no NUL). */
const ANY_INDIRECT = '\0indirect';

/** Nodes on a cycle of `graph` (in a strongly connected component of 2+ nodes, or calling itself). */
export function onCycles(graph: Map<string, Set<string>>): Set<string> {
  // Tarjan's algorithm, iterative (call graphs are deep enough to overflow a recursive one).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out = new Set<string>();
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; at: number }[] = [];
    const enter = (node: string) => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: [...(graph.get(node) ?? [])].filter((n) => graph.has(n)), at: 0 });
    };
    enter(root);
    while (work.length) {
      const top = work[work.length - 1];
      if (top.at < top.edges.length) {
        const to = top.edges[top.at++];
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        if (component.length > 1 || graph.get(top.node)!.has(top.node)) for (const c of component) out.add(c);
      }
    }
  }
  return out;
}

/**
 * Nodes whose removal leaves `graph` without cycles (a feedback vertex set, greedily): in each
 * cycle-carrying component, the node with the most in × out edges inside it (a hub: few checks,
 * many cycles broken), until no cycle is left. Nodes calling themselves are always in.
 */
export function cycleBreakers(graph: Map<string, Set<string>>): Set<string> {
  const out = new Set<string>();
  let nodes = onCycles(graph);
  while (nodes.size) {
    const sub = new Map<string, Set<string>>();
    for (const n of nodes) sub.set(n, new Set([...(graph.get(n) ?? [])].filter((t) => nodes.has(t))));
    for (const [n, edges] of sub) {
      if (edges.has(n)) {
        out.add(n);
        sub.delete(n);
      }
    }
    for (const edges of sub.values()) for (const n of out) edges.delete(n);
    const inDegree = new Map<string, number>();
    for (const edges of sub.values()) for (const t of edges) inDegree.set(t, (inDegree.get(t) ?? 0) + 1);
    const remaining = onCycles(sub);
    if (remaining.size === 0) break;
    let best = '';
    let score = -1;
    for (const n of remaining) {
      const s = (inDegree.get(n) ?? 0) * (sub.get(n)!.size);
      if (s > score) [best, score] = [n, s];
    }
    out.add(best);
    remaining.delete(best);
    nodes = remaining;
  }
  return out;
}

function exportMemory(b: Binaryen, m: Module): void {
  if (!m.hasMemory()) return;
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = b.getExportInfo(m.getExportByIndex(i));
    if (e.kind === b.ExternalMemory) {
      m.addMemoryExport(e.value, MEMORY_EXPORT);
      return;
    }
  }
  // binaryen names an unnamed memory by its index.
  m.addMemoryExport('0', MEMORY_EXPORT);
}

export const META_SECTION = 'pyfence.meta';

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'ref';

export interface Signature {
  params: ValueType[];
  results: ValueType[];
}

export interface ModuleMeta {
  /** The guest's own function imports and exports with their signatures (the JS API has no types). */
  imports: ({ module: string; name: string } & Signature)[];
  exports: Record<string, Signature>;
  memoryInitialPages: number | null;
  memoryMaximumPages: number | null;
  tableInitial: number;
  report: MeterReport;
  /** How long instrumenting took (ms), when this process did it. */
  instrumentMs?: number;
}

/** Thrown for modules the instrumenter refuses; the message is for the user. */
export class RefusedModule extends Error {}

/** The instrumented binary of `original`, with its metadata in a custom section. */
export function instrumentBinary(b: Binaryen, original: Uint8Array): { bytes: Uint8Array; meta: ModuleMeta } {
  const started = performance.now();
  const m = (b.readBinary as (d: Uint8Array, f?: number) => Module)(original, FEATURES(b));
  try {
    const memory = m.hasMemory() ? m.getMemoryInfo() : null;
    if (memory?.is64) throw new RefusedModule('64-bit memories are not supported');
    let tableInitial = 0;
    for (let i = 0; i < m.getNumTables(); i++) tableInitial += b.getTableInfo(m.getTableByIndex(i)).initial;
    const { imports, exports } = signatures(b, m);
    let report: MeterReport;
    try {
      report = meter(b, m);
    } catch (e) {
      if (e instanceof UnsupportedExpression) throw new RefusedModule(`cannot meter this module: ${e.message}`);
      throw e;
    }
    const meta: ModuleMeta = { imports, exports, memoryInitialPages: memory ? memory.initial : null, memoryMaximumPages: memory?.max ?? null, tableInitial, report };
    m.addCustomSection(META_SECTION, new TextEncoder().encode(JSON.stringify(meta)));
    return { bytes: m.emitBinary(), meta: { ...meta, instrumentMs: performance.now() - started } };
  } finally {
    m.dispose();
  }
}

export function watBinary(b: Binaryen, text: string): Uint8Array {
  let m: Module;
  try {
    m = b.parseText(text);
  } catch (e) {
    throw new RefusedModule(`invalid .wat: ${(e as Error).message ?? e}`);
  }
  try {
    m.setFeatures(FEATURES(b));
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

function signatures(b: Binaryen, m: Module): Pick<ModuleMeta, 'imports' | 'exports'> {
  const name = (t: number): ValueType =>
    t === b.i32 ? 'i32' : t === b.i64 ? 'i64' : t === b.f32 ? 'f32' : t === b.f64 ? 'f64' : t === b.v128 ? 'v128' : 'ref';
  const sig = (fn: number): Signature => {
    const info = b.getFunctionInfo(fn);
    return { params: b.expandType(info.params).map(name), results: b.expandType(info.results).map(name) };
  };
  const imports: ModuleMeta['imports'] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const fn = m.getFunctionByIndex(i);
    const info = b.getFunctionInfo(fn);
    if (info.module) imports.push({ module: info.module, name: info.base!, ...sig(fn) });
  }
  const exports: Record<string, Signature> = {};
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = b.getExportInfo(m.getExportByIndex(i));
    if (e.kind === b.ExternalFunction) exports[e.name] = sig(m.getFunction(e.value));
  }
  return { imports, exports };
}
