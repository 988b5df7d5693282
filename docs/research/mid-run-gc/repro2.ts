import binaryen from 'binaryen';
import { readFileSync, writeFileSync } from 'node:fs';
import { stackPointerGlobal } from '../../../build/wasm-inspect.js';
import { withGlobalName, globalIndexOf } from './names.js';
const orig = new Uint8Array(readFileSync(new URL('./orig.wasm', import.meta.url)));
const m0 = binaryen.readBinary(orig);
const sp = stackPointerGlobal(m0);
for (let i = 0; i < m0.getNumGlobals(); i++) { const g = binaryen.getGlobalInfo(m0.getGlobalByIndex(i)); if (g.module) console.log('imported global', g.name, g.module, g.base); }
const named = withGlobalName(orig, globalIndexOf(sp), '__stack_pointer');
writeFileSync(new URL('./orig.named.wasm', import.meta.url), named);
const m = binaryen.readBinary(named);
console.log('sp now', stackPointerGlobal(m));
let t = performance.now();
m.runPasses(['spill-pointers']);
console.log('spill-pointers ok', Math.round(performance.now() - t), 'ms; validate', m.validate());
