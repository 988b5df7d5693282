// Step 1: reproduce spill-pointers failure in binaryen.js on the original and the transformed module.
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { rewriteLongjmpToNativeExceptions } from '../../../build/passes/exceptions.js';
import { trapFatalLoops } from '../../../build/passes/fatal-loops.js';
import { replaceSpinSleeps } from '../../../build/passes/sleep.js';
import { injectFuelMetering } from '../../../build/passes/metering.js';
import { stackPointerGlobal } from '../../../build/wasm-inspect.js';

const orig = new Uint8Array(readFileSync(new URL('./orig.wasm', import.meta.url)));
function tryPass(label: string, m: binaryen.Module) {
  console.log(label, 'sp global =', stackPointerGlobal(m), 'globals:', m.getNumGlobals());
  try {
    m.runPasses(['spill-pointers']);
    console.log(label, 'OK');
  } catch (e) {
    console.log(label, 'threw:', typeof e, e, (e as any)?.message, Object.prototype.toString.call(e));
  }
}
{
  const m = binaryen.readBinary(orig);
  tryPass('original', m);
}
{
  const m = binaryen.readBinary(orig);
  rewriteLongjmpToNativeExceptions(m); trapFatalLoops(m); replaceSpinSleeps(m); injectFuelMetering(m);
  tryPass('transformed', m);
}
