// Emscripten's setjmp/longjmp goes through JS: every `invoke_*` import is a JS trampoline that calls a
// table entry inside a JS try/catch, and longjmp throws a JS number. We replace both with native wasm
// exception handling: one new tag, thrown by longjmp and caught only by the invoke functions.
import binaryen from 'binaryen';
import { exportedFunction, importedFunctions, stackPointerGlobal, type Module } from '../wasm-inspect.js';

export const LONGJMP_TAG = 'pyfence_longjmp';

export interface ExceptionReport {
  invokesReplaced: string[];
  /** The function longjmp ends in, which now throws the tag (null until found). */
  thrower: string | null;
}

export function rewriteLongjmpToNativeExceptions(m: Module): ExceptionReport {
  m.setFeatures(m.getFeatures() | binaryen.Features.ExceptionHandling);
  m.addTag(LONGJMP_TAG, binaryen.none, binaryen.none);
  const sp = stackPointerGlobal(m);
  const setThrew = exportedFunction(m, 'setThrew');
  const table = binaryen.getTableInfo(m.getTableByIndex(0)).name;
  const report: ExceptionReport = { invokesReplaced: [], thrower: null };

  for (const imp of importedFunctions(m)) {
    if (imp.module !== 'env') continue;
    if (imp.base === '_emscripten_throw_longjmp') {
      if (imp.params.length || imp.results.length) throw new Error('unexpected _emscripten_throw_longjmp signature');
      m.removeFunction(imp.name);
      m.addFunction(imp.name, binaryen.none, binaryen.none, [], m.throw(LONGJMP_TAG, []));
      report.thrower = imp.name;
      continue;
    }
    if (!imp.base.startsWith('invoke_')) continue;
    const [indexType, ...argTypes] = imp.params;
    const shape = imp.base.slice('invoke_'.length);
    if (indexType !== binaryen.i32 || shape.length !== imp.params.length || imp.results.length > 1) {
      throw new Error(`unexpected signature of ${imp.base}`);
    }
    const result = imp.results[0] ?? binaryen.none;
    const spLocal = imp.params.length; // first var after the params
    const args = argTypes.map((t, i) => m.local.get(i + 1, t));
    const call = m.call_indirect(table, m.local.get(0, binaryen.i32), args, binaryen.createType(argTypes), result);
    const onLongjmp = [
      m.global.set(sp, m.local.get(spLocal, binaryen.i32)),
      m.call(setThrew, [m.i32.const(1), m.i32.const(0)], binaryen.none),
    ];
    if (result !== binaryen.none) onLongjmp.push(m.i32.const(0));
    const body = m.block(null, [
      m.local.set(spLocal, m.global.get(sp, binaryen.i32)),
      m.try('', call, [LONGJMP_TAG], [m.block(null, onLongjmp, result)]),
    ], result);
    m.removeFunction(imp.name);
    m.addFunction(imp.name, binaryen.createType(imp.params), result, [binaryen.i32], body);
    report.invokesReplaced.push(imp.base);
  }
  if (report.thrower === null) throw new Error('_emscripten_throw_longjmp import not found');
  if (report.invokesReplaced.length === 0) throw new Error('no invoke_* imports found');
  return report;
}
