// After baking, the init entry points must never run again, and most exports are unused: V8 makes a
// wrapper per export on every instantiation. Keep only what the engine calls, then drop the code that
// only those exports reached.
import binaryen from 'binaryen';
import { STATE_GLOBAL_PREFIX } from '../../src/engine/abi.js';
import { mutableGlobals, type Module } from '../wasm-inspect.js';

/**
 * Exports the mutable globals not exported yet (the C stack pointer and a few more), so a snapshot
 * can capture and restore the whole state; returns the export names.
 */
export function exportStateGlobals(m: Module): string[] {
  const exported = new Set<string>();
  for (let i = 0; i < m.getNumExports(); i++) {
    const e = binaryen.getExportInfo(m.getExportByIndex(i));
    if (e.kind === binaryen.ExternalGlobal) exported.add(e.value);
  }
  const names: string[] = [];
  mutableGlobals(m)
    .filter((g) => !exported.has(g.name))
    .forEach((g, i) => {
      const name = STATE_GLOBAL_PREFIX + i;
      m.addGlobalExport(g.name, name);
      names.push(name);
    });
  return names;
}

export function keepOnlyExports(m: Module, keep: readonly string[]): string[] {
  const removed: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) names.push(binaryen.getExportInfo(m.getExportByIndex(i)).name);
  for (const name of keep) {
    if (!names.includes(name)) throw new Error(`strip-exports: "${name}" is not exported`);
  }
  for (const name of names) {
    if (keep.includes(name)) continue;
    m.removeExport(name);
    removed.push(name);
  }
  m.runPasses(['remove-unused-module-elements']);
  return removed;
}
