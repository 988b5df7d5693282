import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { findGcFunctions } from './find-gc.js';
const m = binaryen.readBinary(new Uint8Array(readFileSync(process.argv[2])));
console.log(findGcFunctions(m));
