// The command line owns its process, so it may tune V8 for it: a one-shot run exits soon after it
// starts, and V8's optimizing compiles of the interpreters' dispatch loops (100-500 ms of CPU each,
// on background threads that share the machine's cores) pay off only for programs that run for
// seconds. A function is optimized after about 110x more of its code has run than V8's default
// (1.8M bytes). Measured, 2e7 -> 2e8 (interleaved runs, CPU ms): `pyfence run --engine cpython -c
// pass` 1476 -> 992, `-c pass` on MicroPython and fib(27) on either engine unchanged, fib(32) on
// MicroPython unchanged (2005 / 2060) and on CPython 2725 -> 2460. Turning the optimizing tier off
// (--liftoff-only) is not that: fib(32) on MicroPython was 25% slower. 2e7 (from V8's default) had
// taken `pyfence run -c pass` from 0.45 s to 0.22 s. The library leaves V8's flags alone: a host
// process's settings are its own.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--wasm-tiering-budget=200000000');
