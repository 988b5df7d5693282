// Edits of the pyodide module that make it runnable without Pyodide's JS glue and snapshot-able.
import binaryen from 'binaryen';
import { definedFunctionNames, exportedFunction, mutableGlobals, type Module } from '../wasm-inspect.js';
import { children } from '../walk.js';
import { FunctionNode, tableBulkIds, tableOf, tableType } from '../binaryen-extra.js';
import { HOST_IMPORT_MODULE, SLEEP_MS_IMPORT } from '../../src/engine/abi.js';

/**
 * The module is a dynamic-linking main module: each `GOT.func`/`GOT.mem` import is the address of a
 * symbol the glue would resolve. Here all of them name JS-library functions that do not exist in the
 * wasm (GL, console): they become constant-0 globals (a null function pointer), so nothing of the host
 * is ever reachable through them.
 */
export function resolveGotImports(m: Module): number {
  const got: { name: string; type: number }[] = [];
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = binaryen.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.module === 'GOT.func' || g.module === 'GOT.mem') got.push({ name: g.name, type: g.type });
  }
  for (const g of got) {
    if (g.type !== binaryen.i32) throw new Error(`GOT import ${g.name} is not i32`);
    m.removeGlobal(g.name);
    m.addGlobal(g.name, binaryen.i32, false, m.i32.const(0));
  }
  return got.length;
}

/** Exports every mutable global not exported yet under `prefix` + index; returns all state export names. */
export function exportMutableGlobals(m: Module, prefix: string): string[] {
  const names: string[] = [];
  mutableGlobals(m).forEach((g, i) => {
    const name = prefix + i;
    m.addGlobalExport(g.name, name);
    names.push(name);
  });
  return names;
}

/**
 * Exports every table not exported yet under `prefix` + index (Pyodide's externref tables, which
 * its code grows and sets), so that the host can see whether an instance changed them: one that did
 * is not reused for another interpreter (src/guests/cpython/instance.ts). Returns the export names.
 */
export function exportOtherTables(m: Module, prefix: string): string[] {
  const exported = new Set<string>();
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalTable) exported.add(e.value);
  }
  const names: string[] = [];
  for (let i = 0; i < m.getNumTables(); i++) {
    const table = binaryen.getTableInfo(m.getTableByIndex(i));
    if (exported.has(table.name)) continue;
    const name = prefix + names.length;
    m.addTableExport(table.name, name);
    names.push(name);
  }
  return names;
}

/** Removes every export not in `keep`; returns how many were removed. */
export function keepExports(m: Module, keep: readonly string[]): number {
  const names: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) names.push(binaryen.getExportInfo(m.getExportByIndex(i)).name);
  for (const name of keep) if (!names.includes(name)) throw new Error(`cpython: "${name}" is not exported`);
  let removed = 0;
  for (const name of names) {
    if (keep.includes(name)) continue;
    m.removeExport(name);
    removed++;
  }
  return removed;
}

/**
 * What the host's guarantees rest on, counted over every function: `memory.grow` (growth must go
 * through the host, which enforces the cap) and writes of the function table (table.set, grow, fill,
 * copy, init on a funcref table). Without the latter an instance's function table is what
 * instantiation made it, so a used instance may serve the next interpreter (src/guests/cpython/
 * instance.ts checks the other tables itself).
 */
export function countGuardedWrites(m: Module): { memoryGrows: number; functionTableWrites: number } {
  const functionTables = new Set<string>();
  for (let i = 0; i < m.getNumTables(); i++) {
    const table = m.getTableByIndex(i);
    if (tableType(table) === binaryen.funcref) functionTables.add(binaryen.getTableInfo(table).name);
  }
  // binaryen.js gives no accessor for the table these name: any of them counts.
  const anyTable = new Set(tableBulkIds());
  let memoryGrows = 0;
  let functionTableWrites = 0;
  for (const name of definedFunctionNames(m)) {
    const stack = [binaryen.getFunctionInfo(m.getFunction(name)).body];
    while (stack.length) {
      const e = stack.pop()!;
      const id = binaryen.getExpressionId(e);
      if (id === binaryen.MemoryGrowId) memoryGrows++;
      else if (id === binaryen.TableSetId) functionTableWrites += functionTables.has(tableOf.set(e)) ? 1 : 0;
      else if (id === binaryen.TableGrowId) functionTableWrites += functionTables.has(tableOf.grow(e)) ? 1 : 0;
      else if (anyTable.has(id)) functionTableWrites++;
      stack.push(...children(e));
    }
  }
  return { memoryGrows, functionTableWrites };
}

/**
 * Without threads, Emscripten's libc sleeps by spinning on the clock: every sleep (time.sleep ->
 * clock_nanosleep -> emscripten_thread_sleep(ms)) burns CPU and fuel. Its body becomes one host call,
 * which blocks without spinning, bounded by the run's deadline (or advances the virtual clock).
 */
export function sleepThroughHost(m: Module): string {
  const name = exportedFunction(m, 'emscripten_thread_sleep');
  const info = binaryen.getFunctionInfo(m.getFunction(name));
  if (info.params !== binaryen.f64 || info.results !== binaryen.none) throw new Error('cpython: emscripten_thread_sleep is not (f64) -> ()');
  m.addFunctionImport(HOST_SLEEP_FUNC, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT, binaryen.f64, binaryen.none);
  FunctionNode.setBody(m.getFunction(name), m.call(HOST_SLEEP_FUNC, [m.local.get(0, binaryen.f64)], binaryen.none));
  return name;
}

const HOST_SLEEP_FUNC = 'pyfence_sleep_ms';
