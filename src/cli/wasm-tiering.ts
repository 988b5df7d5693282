// The command line owns its process, so it may tune V8 for it: a one-shot run exits soon after it
// starts, and at exit V8 waits for the optimizing compiles it has begun (the interpreters' dispatch
// loops take 100-300 ms each). Measured here: `pyfence run -c pass` 0.45 s -> 0.22 s, and a 1.6 s
// program no slower. A function is optimized after about 11x more of its code has run than V8's
// default (1.8M bytes), so only work that runs a few milliseconds waits longer for it. The library
// leaves V8's flags alone: a host process's settings are its own.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--wasm-tiering-budget=20000000');
