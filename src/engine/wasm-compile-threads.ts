// V8 runs a wasm module in baseline code first and recompiles each function that gets hot with its
// optimizing tier on background threads: as many as its platform has (Node: 4), whatever the
// machine's cores. CPython's hot functions are ~1.5 s of such compiles in a process's first second
// or two; on a 2-core machine four compile threads and the thread running the sandboxes share two
// cores, and that thread spent 3-5x its CPU time waiting in the run queue (/proc schedstat: a fresh
// sandbox 16-20 ms, of which 4 ms on a core), for the first ~30 sandboxes of every process.
// Capped at one core fewer than the machine has, the compiles still run beside it and the code
// they make is the same (a fresh sandbox's median over a process's sandboxes 4-33: 7-28 -> 3.7-8 ms
// on 2 shared cores).
// Set before the first CPython module is compiled, unless the embedding process chose the number
// itself (its flags are its own: V8 gives no way to read a flag back, so its command line is what
// tells; Node refuses this flag in NODE_OPTIONS).
import { availableParallelism } from 'node:os';
import { setV8Flags } from './v8-flags.js';

const FLAG = 'wasm-num-compilation-tasks';

/** The flag to set, or null if the process's own options name it (V8 accepts `-` or `_` in names). */
export function compileTasksFlag(execArgv: readonly string[], cores: number): string | null {
  const named = (arg: string) => arg.replace(/^--(no-)?/, '').split('=')[0].replaceAll('_', '-') === FLAG;
  if (execArgv.some(named)) return null;
  return `--${FLAG}=${Math.max(1, cores - 1)}`;
}

let done = false;

/** Leaves the thread that runs the sandboxes a core of its own while V8 tiers a module up (once per process). */
export function capWasmCompileThreads(): void {
  if (done) return;
  done = true;
  const flag = compileTasksFlag(process.execArgv, availableParallelism());
  if (flag) setV8Flags(flag);
}
