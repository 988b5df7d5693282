import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { findGcFunctions } from './find-gc.js';
import { findGcLayout } from './gc-collect.js';
const m = binaryen.readBinary(new Uint8Array(readFileSync(new URL('./orig.wasm', import.meta.url))));
const g = findGcFunctions(m); console.log(g, findGcLayout(m, g.gcCollectStart, g.gcCollectEnd));
