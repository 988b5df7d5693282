// Load-time instrumentation (src/instrument/meter.ts) time and throughput:
//  - lua.wasm (bench/wasi/build-lua.sh, when it can be built) and the stock MicroPython WASM module
//    of node_modules (@micropython/micropython-webassembly-pyscript, 424 KiB), as programs of that size;
//  - a module of 6,000 mutually calling functions (~4 MiB, made here with binaryen's text parser).
// Each: the first instrumentation in this process (cold: the rewriter not yet optimized by V8), the
// median of the next RUNS, and the whole first load through the instrumenting worker (a fresh one).
// Usage: npm run bench:instrument [-- --runs N]. Markdown on stdout.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { instrumentBinary } from '../src/instrument/meter.js';
import binaryen from 'binaryen';
import { clearModuleCache, loadModule } from '../src/instrument/load.js';

const ROOT = join(import.meta.dirname, '..');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 6,000 functions, each a straight run of loads and arithmetic, a loop, and two calls into the graph. */
function callGraphWat(k: number): string {
  let fns = '';
  for (let i = 0; i < k; i++) {
    let body = '';
    for (let j = 0; j < 40; j++) body += `(local.set 1 (i32.add (i32.mul (local.get 1) (i32.const ${i * 61 + j})) (i32.load offset=${j * 4} (local.get 0))))`;
    fns += `(func $f${i} (param i32) (local i32) ${body} (if (local.get 0) (then (call $f${(i * 7 + 1) % k} (i32.sub (local.get 0) (i32.const 1))) (call $f${(i * 13 + 5) % k} (i32.sub (local.get 0) (i32.const 1))))) (loop $l (br_if $l (i32.eqz (local.get 1)))))`;
  }
  return `(module (memory (export "memory") 1) ${fns} (func (export "_start")))`;
}

const modules: [string, Uint8Array][] = [];
const lua = join(ROOT, 'bench', '.cache', 'lua', 'lua.wasm');
if (fs.existsSync(lua)) modules.push(['lua.wasm', fs.readFileSync(lua)]);
else process.stderr.write('lua.wasm not built (bench/wasi/build-lua.sh): its row is skipped\n');
const micropython = join(ROOT, 'node_modules', '@micropython', 'micropython-webassembly-pyscript', 'micropython.wasm');
if (fs.existsSync(micropython)) modules.push(['micropython.wasm (stock, npm)', fs.readFileSync(micropython)]);
const graph = binaryen.parseText(callGraphWat(6000));
modules.push(['6,000 mutually calling functions', graph.emitBinary()]);
graph.dispose();

const lines = [
  '| module | size | first instrumentation (cold) | median of next ' + RUNS + ' | throughput | first load through the worker (instrument + V8 compile) |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const [name, bytes] of modules) {
  clearModuleCache();
  const t0 = performance.now();
  const loaded = await loadModule(bytes);
  const loadMs = performance.now() - t0;
  if (loaded.meta.denied) throw new Error(`${name}: ${loaded.meta.denied}`);
  let t = performance.now();
  instrumentBinary(bytes);
  const cold = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    instrumentBinary(bytes);
    times.push(performance.now() - t);
  }
  const warm = median(times);
  const mib = bytes.length / 1024 / 1024;
  lines.push(`| ${name} | ${(bytes.length / 1024).toFixed(0)} KiB | ${cold.toFixed(0)} ms | ${warm.toFixed(0)} ms | ${(mib / (warm / 1000)).toFixed(1)} MiB/s | ${loadMs.toFixed(0)} ms (worker: ${loaded.meta.instrumentMs?.toFixed(0)} ms) |`);
}
console.log(lines.join('\n'));
process.exit(0);
