// After baking, the init entry points must never run again, and most exports are unused: V8 makes a
// wrapper per export on every instantiation. Keep only what the engine calls, then drop the code that
// only those exports reached.
import binaryen from 'binaryen';
import type { Module } from '../wasm-inspect.js';

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
