// Finding things in a module that has no name section: by exports, imports and structure.
import binaryen from 'binaryen';

export type Module = binaryen.Module;

export interface ImportedFunction {
  name: string;
  module: string;
  base: string;
  params: number[];
  results: number[];
}

export function importedFunctions(m: Module): ImportedFunction[] {
  const out: ImportedFunction[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (!f.module) continue;
    out.push({
      name: f.name,
      module: f.module,
      base: f.base ?? '',
      params: binaryen.expandType(f.params) as number[],
      results: binaryen.expandType(f.results) as number[],
    });
  }
  return out;
}

/** Internal name of the function behind an export; throws if absent. */
export function exportedFunction(m: Module, exportName: string): string {
  const ref = m.getExport(exportName);
  if (!ref) throw new Error(`the module has no export "${exportName}"`);
  const info = binaryen.getExportInfo(ref);
  if (info.kind !== binaryen.ExternalFunction) throw new Error(`export "${exportName}" is not a function`);
  return info.value;
}

/** The C stack pointer: the global read by the body of `emscripten_stack_get_current`. */
export function stackPointerGlobal(m: Module): string {
  const fn = binaryen.getFunctionInfo(m.getFunction(exportedFunction(m, 'emscripten_stack_get_current')));
  let body = fn.body;
  if (binaryen.getExpressionId(body) === binaryen.BlockId) {
    const block = binaryen.getExpressionInfo(body) as binaryen.BlockInfo;
    if (block.children.length !== 1) throw new Error('emscripten_stack_get_current: unexpected body');
    body = block.children[0];
  }
  if (binaryen.getExpressionId(body) !== binaryen.GlobalGetId) {
    throw new Error('emscripten_stack_get_current does not read a global');
  }
  const name = (binaryen.getExpressionInfo(body) as binaryen.GlobalGetInfo).name;
  if (!binaryen.getGlobalInfo(m.getGlobal(name)).mutable) throw new Error('stack pointer global is immutable');
  return name;
}

export function definedFunctionNames(m: Module): string[] {
  const names: string[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (!f.module) names.push(f.name);
  }
  return names;
}

export function mutableGlobals(m: Module): { name: string; type: number }[] {
  const out: { name: string; type: number }[] = [];
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = binaryen.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.mutable && !g.module) out.push({ name: g.name, type: g.type });
  }
  return out;
}
