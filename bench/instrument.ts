// Load-time instrumentation (src/instrument/meter.ts) time and throughput:
//  - lua.wasm (bench/wasi/build-lua.sh, when it can be built) and the stock MicroPython WASM module
//    of node_modules (@micropython/micropython-webassembly-pyscript, 424 KiB), real programs;
//  - generated modules of mutually calling functions: ~600 KB (950 functions) and ~4 MiB (6,000),
//    made here with binaryen's text parser.
// Each, in fresh processes of the built dist/ (`npx tsc -p . && node build/finish-dist.mjs` first):
//  - cold: one rewrite (`instrumentBinary`) in a fresh process, as a first-time user's
//    `pyfence wasm` meets it (V8 has not optimized the rewriter yet): median of RUNS processes, wall
//    time, CPU of the whole process (V8's optimizing compiler and GC run on other threads) and of
//    the main thread alone (/proc: what a machine with a core to spare waits for);
//  - warm: the median of RUNS more rewrites in the first of those processes (CPU of the main thread:
//    wall time on a loaded machine says more about the load);
//  - the paths a user takes, one fresh process each: `WasmModule.compile` as the API and
//    `pyfence wasm` do it (a small module rewritten in-process, a large one in a fresh worker), and
//    as a server does it (its worker started and warmed up at start, Runner.ready).
// `--baseline DIR`: the cold and warm rewrites of another checkout's built dist/ too, interleaved
// with this one's (before/after in one run).
// Usage: npm run bench:instrument [-- --runs N] [-- --baseline DIR]. Markdown on stdout.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import binaryen from 'binaryen';

const ROOT = join(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist', 'index.js');
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 7);
const BASELINE = flag('--baseline') ? resolve(flag('--baseline')!) : null;
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

interface Rewrite {
  wall: number;
  cpu: number;
  main: number;
  warm: number | null;
}

/** One rewrite in a fresh process of `root`'s dist/, then `warmRuns` more (their median: `warm`). */
function freshRewrite(root: string, file: string, warmRuns: number): Rewrite {
  const script = `
    const { readFileSync } = await import('node:fs');
    const { instrumentBinary } = await import(${JSON.stringify(join(root, 'dist', 'instrument', 'meter.js'))});
    const bytes = readFileSync(${JSON.stringify(file)});
    const mainNs = () => Number(readFileSync('/proc/self/task/' + process.pid + '/schedstat', 'utf8').split(' ')[0]);
    const main = mainNs();
    const cpu = process.cpuUsage();
    let t = performance.now();
    const { meta } = instrumentBinary(bytes);
    const wall = performance.now() - t;
    const c = process.cpuUsage(cpu);
    const mainMs = (mainNs() - main) / 1e6;
    if (meta.denied) throw new Error(meta.denied);
    const warm = [];
    for (let i = 0; i < ${warmRuns}; i++) {
      const before = mainNs();
      instrumentBinary(bytes);
      warm.push((mainNs() - before) / 1e6);
    }
    warm.sort((a, b) => a - b);
    console.log(JSON.stringify({ wall, cpu: (c.user + c.system) / 1000, main: mainMs, warm: warm.length ? warm[warm.length >> 1] : null }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  if (child.status !== 0) throw new Error(`fresh rewrite of ${file} (${root}): ${child.stderr}`);
  return JSON.parse(child.stdout) as Rewrite;
}

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

/** RUNS fresh rewrites per root, the roots interleaved; the first process of each also measures warm. */
function coldAndWarm(roots: string[], file: string): { cold: string; warm: string }[] {
  const runs = roots.map(() => [] as Rewrite[]);
  for (let i = 0; i < RUNS; i++) roots.forEach((root, r) => runs[r].push(freshRewrite(root, file, i === 0 ? RUNS : 0)));
  return runs.map((rs) => ({
    cold: `${median(rs.map((r) => r.wall)).toFixed(0)} ms (CPU ${median(rs.map((r) => r.cpu)).toFixed(0)}, main thread ${median(rs.map((r) => r.main)).toFixed(0)})`,
    warm: `${rs[0].warm!.toFixed(0)} ms`,
  }));
}

if (!fs.existsSync(DIST)) throw new Error('dist/ is not built: npx tsc -p . && node build/finish-dist.mjs');
const dir = fs.mkdtempSync(join(tmpdir(), 'pyfence-bench-instrument-'));
const roots = BASELINE ? [BASELINE, ROOT] : [ROOT];
const cold = `cold: one rewrite in a fresh process, median of ${RUNS} (wall; CPU of the process, of its main thread)`;
const lines = [
  BASELINE
    ? `| module | size | baseline ${cold} | this ${cold} | baseline warm (main-thread CPU, median of ${RUNS}) | this warm | fresh process: \`WasmModule.compile\` (API, \`pyfence wasm\`) | fresh server process: worker warmed at start |`
    : `| module | size | ${cold} | warm: main-thread CPU, median of ${RUNS} more in that process | throughput (warm) | fresh process: \`WasmModule.compile\` (API, \`pyfence wasm\`) | fresh server process: worker warmed at start |`,
  BASELINE ? '| --- | --- | --- | --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const [name, bytes] of modules) {
  const file = join(dir, `${modules.findIndex(([n]) => n === name)}.wasm`);
  fs.writeFileSync(file, bytes);
  const size = `${(bytes.length / 1024).toFixed(0)} KiB`;
  const measured = coldAndWarm(roots, file);
  const paths = `${freshCompile(file, false)} | ${freshCompile(file, true)}`;
  if (BASELINE) lines.push(`| ${name} | ${size} | ${measured[0].cold} | ${measured[1].cold} | ${measured[0].warm} | ${measured[1].warm} | ${paths} |`);
  else {
    const warmMs = parseFloat(measured[0].warm);
    lines.push(`| ${name} | ${size} | ${measured[0].cold} | ${measured[0].warm} | ${(bytes.length / 1024 / 1024 / (warmMs / 1000)).toFixed(1)} MiB/s | ${paths} |`);
  }
  process.stderr.write(`${name} done\n`);
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(lines.join('\n'));
process.exit(0);
