// The command line owns its process, so it may tune V8 for it: a one-shot run exits soon after it
// starts, and V8's optimizing compiles of the interpreters' dispatch loops (100-500 ms of CPU each,
// on background threads that share the machine's cores) pay off only for programs that run for
// seconds. A function is optimized after about 110x more of its code has run than V8's default
// (1.8M bytes). Measured, 2e7 -> 2e8 (interleaved runs, CPU ms): `pyfence run --engine cpython -c
// pass` 1476 -> 992, `-c pass` on MicroPython and fib(27) on either engine unchanged, fib(32) on
// MicroPython unchanged (2005 / 2060) and on CPython 2725 -> 2460. Turning the optimizing tier off
// (--liftoff-only) is not that: fib(32) on MicroPython was 25% slower. 2e7 (from V8's default) had
// taken `pyfence run -c pass` from 0.45 s to 0.22 s.
// The meter's checks carry branch hints (src/instrument/branch-hints.ts): V8 lays a hinted-unlikely
// path out of the hot one, which Node 20's V8 (11.3) does only under this experimental flag
// (measured: MicroPython's metering overhead +24.8% -> +15.1%, a Lua guest ~11% less CPU). Set only
// on the V8 versions known to have it: an unknown flag is an error message on stderr.
// The library leaves these to the embedding process, whose settings are its own (README says how to
// set them); the one flag it sets is CPython's compile-thread count (src/engine/wasm-compile-threads.ts).
import { setV8Flags } from '../engine/v8-flags.js';

setV8Flags('--wasm-tiering-budget=200000000');
const v8Major = Number(process.versions.v8.split('.')[0]);
if (v8Major >= 11 && v8Major <= 12) setV8Flags('--experimental-wasm-branch-hinting');
