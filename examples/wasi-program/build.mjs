// Builds greet.wasm from greet.wat with binaryen (a devDependency of pyfence: `npm install binaryen`).
//   node examples/wasi-program/build.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import binaryen from 'binaryen';

const here = new URL('.', import.meta.url);
const module = binaryen.parseText(readFileSync(new URL('greet.wat', here), 'utf8'));
if (!module.validate()) throw new Error('greet.wat does not validate');
writeFileSync(new URL('greet.wasm', here), module.emitBinary());
module.dispose();
