// Load-time instrumentation (src/instrument/meter.ts) time and throughput:
//  - lua.wasm (bench/wasi/build-lua.sh, when it can be built) and the stock MicroPython WASM module
//    of node_modules (@micropython/micropython-webassembly-pyscript, 424 KiB), real programs;
//  - generated modules of mutually calling functions: ~600 KB (950 functions) and ~4 MiB (6,000),
//    made here with binaryen's text parser.
// Each: the rewrite alone in this process (first: V8 has not optimized the rewriter yet; then the
// median of the next RUNS), and the paths a user takes, each in a fresh process of the built dist/
// (`npx tsc -p . && node build/finish-dist.mjs` first): `WasmModule.compile` as the API and
// `pyfence wasm` do it (a small module rewritten in-process, a large one in a fresh worker), and as a
// server does it (its worker started and warmed up at start, Runner.ready). Wall and CPU time.
// Usage: npm run bench:instrument [-- --runs N]. Markdown on stdout.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instrumentBinary } from '../src/instrument/meter.js';
import binaryen from 'binaryen';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist', 'index.js');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** How long the server path waits after starting its worker before the module comes (its warm-up is ~0.3 s of CPU). */
const SERVER_SETTLE_MS = 3000;

/** `k` functions, each a straight run of loads and arithmetic, a loop, and two calls into the graph. */
function callGraphWat(k: number): string {
  let fns = '';
  for (let i = 0; i < k; i++) {
    let body = '';
    for (let j = 0; j < 40; j++) body += `(local.set 1 (i32.add (i32.mul (local.get 1) (i32.const ${i * 61 + j})) (i32.load offset=${j * 4} (local.get 0))))`;
    fns += `(func $f${i} (param i32) (local i32) ${body} (if (local.get 0) (then (call $f${(i * 7 + 1) % k} (i32.sub (local.get 0) (i32.const 1))) (call $f${(i * 13 + 5) % k} (i32.sub (local.get 0) (i32.const 1))))) (loop $l (br_if $l (i32.eqz (local.get 1)))))`;
  }
  return `(module (memory (export "memory") 1) ${fns} (func (export "_start")))`;
}

function generated(k: number): Uint8Array {
  const m = binaryen.parseText(callGraphWat(k));
  try {
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

const modules: [string, Uint8Array][] = [];
const lua = join(ROOT, 'bench', '.cache', 'lua', 'lua.wasm');
if (fs.existsSync(lua)) modules.push(['lua.wasm', fs.readFileSync(lua)]);
else process.stderr.write('lua.wasm not built (bench/wasi/build-lua.sh): its row is skipped\n');
const micropython = join(ROOT, 'node_modules', '@micropython', 'micropython-webassembly-pyscript', 'micropython.wasm');
if (fs.existsSync(micropython)) modules.push(['micropython.wasm (stock, npm)', fs.readFileSync(micropython)]);
modules.push(['950 mutually calling functions', generated(950)]);
modules.push(['6,000 mutually calling functions', generated(6000)]);

/** One first compile in a fresh process: `server` starts and warms the instrumenting worker first. */
function freshCompile(file: string, server: boolean): string {
  const script = `
    const { readFileSync } = await import('node:fs');
    const { WasmModule } = await import(${JSON.stringify(DIST)});
    const { instrumenter } = await import(${JSON.stringify(join(ROOT, 'dist', 'instrument', 'worker-client.js'))});
    const bytes = readFileSync(${JSON.stringify(file)});
    if (${server}) { instrumenter().prewarm(); await new Promise((r) => setTimeout(r, ${SERVER_SETTLE_MS})); }
    const cpu = process.cpuUsage();
    const t = performance.now();
    const m = await WasmModule.compile(bytes);
    const c = process.cpuUsage(cpu);
    if (m.meta.denied) throw new Error(m.meta.denied);
    console.log(JSON.stringify({ wall: performance.now() - t, cpu: (c.user + c.system) / 1000, rewrite: m.meta.instrumentMs }));
    process.exit(0);`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (child.status !== 0) throw new Error(`fresh compile of ${file}: ${child.stderr}`);
  const r = JSON.parse(child.stdout) as { wall: number; cpu: number; rewrite: number };
  return `${r.wall.toFixed(0)} ms (CPU ${r.cpu.toFixed(0)} ms; rewrite ${r.rewrite.toFixed(0)} ms)`;
}

if (!fs.existsSync(DIST)) throw new Error('dist/ is not built: npx tsc -p . && node build/finish-dist.mjs');
const dir = fs.mkdtempSync(join(tmpdir(), 'pyfence-bench-instrument-'));
const lines = [
  `| module | size | rewrite, first in this process | median of next ${RUNS} | throughput | fresh process: \`WasmModule.compile\` (API, \`pyfence wasm\`) | fresh server process: worker warmed at start |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const [name, bytes] of modules) {
  const file = join(dir, `${modules.findIndex(([n]) => n === name)}.wasm`);
  fs.writeFileSync(file, bytes);
  let t = performance.now();
  const { meta } = instrumentBinary(bytes);
  if (meta.denied) throw new Error(`${name}: ${meta.denied}`);
  const cold = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    instrumentBinary(bytes);
    times.push(performance.now() - t);
  }
  const warm = median(times);
  const mib = bytes.length / 1024 / 1024;
  lines.push(
    `| ${name} | ${(bytes.length / 1024).toFixed(0)} KiB | ${cold.toFixed(0)} ms | ${warm.toFixed(0)} ms | ${(mib / (warm / 1000)).toFixed(1)} MiB/s | ${freshCompile(file, false)} | ${freshCompile(file, true)} |`,
  );
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(lines.join('\n'));
process.exit(0);
