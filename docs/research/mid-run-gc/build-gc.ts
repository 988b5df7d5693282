// Builds experimental variants of the metered module into docs/research/mid-run-gc/out/:
//   base       : same steps as build/build.ts (metered)
//   spill      : + spill-pointers (no flatten)  + real gc_collect
//   flat       : + flatten, spill-pointers       + real gc_collect
//   flatco     : + flatten, coalesce-locals, spill-pointers + real gc_collect
//   flatco-nogc: flatco without the gc_collect replacement (overhead of spilling alone)
// usage: tsx docs/research/mid-run-gc/build-gc.ts [variant...]
import binaryen from 'binaryen';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readPinnedWasm } from '../../../build/pinned.js';
import { rewriteLongjmpToNativeExceptions } from '../../../build/passes/exceptions.js';
import { trapFatalLoops } from '../../../build/passes/fatal-loops.js';
import { replaceSpinSleeps } from '../../../build/passes/sleep.js';
import { injectFuelMetering } from '../../../build/passes/metering.js';
import { bakeInitialisedState } from '../../../build/bake.js';
import { keepOnlyExports } from '../../../build/passes/strip-exports.js';
import { stackPointerGlobal, definedFunctionNames } from '../../../build/wasm-inspect.js';
import { RUNTIME_EXPORTS } from '../../../src/engine/abi.js';
import { withGlobalName, globalIndexOf } from './names.js';
import { replaceGcCollect } from './gc-collect.js';

const STACK_BASE = 65536; // emscripten_stack_get_base() after emscripten_stack_init (baked global)

type V = { spill: boolean; pre: string[]; gc: boolean };
const VARIANTS: Record<string, V> = {
  base: { spill: false, pre: [], gc: false },
  spill: { spill: true, pre: [], gc: true },
  flat: { spill: true, pre: ['flatten'], gc: true },
  flatco: { spill: true, pre: ['flatten', 'coalesce-locals'], gc: true },
  'flatco-nogc': { spill: true, pre: ['flatten', 'coalesce-locals'], gc: false },
  'base-gc': { spill: false, pre: [], gc: true }, // UNSOUND: real gc without spilling (control)
};

/** Spill frame size per function: the pass reserves 4 bytes per i32 local (after the pre-passes). */
function frameStats(m: binaryen.Module) {
  let total = 0, max = 0, maxName = '';
  for (const n of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(n));
    const i32s = [...(binaryen.expandType(f.params) as number[]), ...f.vars].filter((t) => t === binaryen.i32).length;
    const bytes = (i32s * 4 + 15) & ~15;
    total += bytes; if (bytes > max) { max = bytes; maxName = n; }
  }
  return { totalSpillAreaBytes: total, maxFrame: max, maxFrameFn: maxName };
}

export function buildVariant(name: string) {
  const v = VARIANTS[name];
  const t0 = performance.now();
  let input = readPinnedWasm();
  {
    const probe = binaryen.readBinary(input);
    input = withGlobalName(input, globalIndexOf(stackPointerGlobal(probe)), '__stack_pointer');
    probe.dispose();
  }
  const m = binaryen.readBinary(input);
  const sp = stackPointerGlobal(m);
  rewriteLongjmpToNativeExceptions(m);
  trapFatalLoops(m);
  replaceSpinSleeps(m);
  const report: Record<string, unknown> = { variant: name, sp };
  // Pattern matching needs LLVM's original structure: replace gc_collect before flatten/spill.
  // (gc_collect's own locals then get spilled too: harmless, they hold no GC pointers.)
  if (v.gc) report.gc = replaceGcCollect(m, sp, STACK_BASE);
  if (v.spill) {
    if (v.pre.length) m.runPasses(v.pre);
    report.frames = frameStats(m);
    const t = performance.now();
    m.runPasses(['spill-pointers']);
    report.spillMs = Math.round(performance.now() - t);
  }
  injectFuelMetering(m);
  if (!m.validate()) throw new Error(`${name}: does not validate`);
  binaryen.setOptimizeLevel(2);
  binaryen.setShrinkLevel(0);
  m.optimize();
  bakeInitialisedState(m);
  keepOnlyExports(m, RUNTIME_EXPORTS);
  if (!m.validate()) throw new Error(`${name}: baked module does not validate`);
  const bytes = m.emitBinary();
  m.dispose();
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./out/${name}.wasm`, import.meta.url), bytes);
  report.bytes = bytes.length;
  report.ms = Math.round(performance.now() - t0);
  console.log(JSON.stringify(report));
}

for (const name of process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(VARIANTS)) buildVariant(name);
