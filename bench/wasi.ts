// pyfence's WASI runtime side by side with node:wasi, in one run:
//  1. CPU-bound Lua (Debian's lua5.4 built for WASI by bench/wasi/build-lua.sh into the gitignored
//     bench/.cache; the row is skipped with the reason when it cannot be built) on bench/wasi/cpu.lua;
//  2. a fresh instance of an already compiled WASI hello-world (test/fixtures/wasm/hello.wasm);
//  3. first load (instrumentation) and cached loads (memory, disk) of lua.wasm.
// Usage: npm run bench:wasi [-- --runs N] [--no-lua]. Markdown on stdout, progress on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmModule } from '../src/api/wasm-module.js';
import { clearModuleCache } from '../src/instrument/load.js';
import { WasmPool } from '../src/pool/wasm-pool.js';
import { availableParallelism } from 'node:os';

const ROOT = join(import.meta.dirname, '..');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const HELLO_RUNS = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(0));
const log = (s: string) => process.stderr.write(s + '\n');

/** node:wasi runs in a child process (fresh instances of an already compiled module); null if it crashed. */
function nodeWasi(file: string, guest: string, host: string, repeat: number, args: string[]): { cpuMs: number[]; wallMs: number[] } | null {
  const r = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'bench', 'wasi', 'node-wasi-run.mjs'), file, guest, host, String(repeat), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) {
    log(`node:wasi child ${r.signal ?? `exit ${r.status}`}: ${r.stderr.trim().split('\n').pop()}`);
    return null;
  }
  return JSON.parse(r.stderr.trim().split('\n').pop()!);
}

function buildLua(): string | null {
  try {
    const out = execFileSync(join(ROOT, 'bench', 'wasi', 'build-lua.sh'), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return out.trim().split('\n').pop() || join(ROOT, 'bench', '.cache', 'lua', 'lua.wasm');
  } catch (e) {
    log(`lua.wasm unavailable: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    return null;
  }
}

async function luaRows(lua: string, lines: string[]): Promise<void> {
  const bytes = fs.readFileSync(lua);
  const scriptDir = join(ROOT, 'bench', 'wasi');
  const args = ['lua', '/bench/cpu.lua'];

  // First load: the instrumenting worker starts, binaryen loads, the module is metered and compiled.
  clearModuleCache();
  let t = performance.now();
  const cacheDir = fs.mkdtempSync(join(tmpdir(), 'pyfence-bench-cache-'));
  const first = await WasmModule.compile(bytes, { cacheDir });
  const firstMs = performance.now() - t;
  const memoryHits: number[] = [];
  const diskHits: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await WasmModule.compile(bytes);
    memoryHits.push(performance.now() - t);
    clearModuleCache();
    t = performance.now();
    await WasmModule.compile(bytes, { cacheDir });
    diskHits.push(performance.now() - t);
  }
  const [memoryHitMs, diskHitMs] = [median(memoryHits), median(diskHits)];
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const nodeMs: number[] = [];
  const fenceMs: number[] = [];
  let expected: string | null = null;
  let nodeCrashes = 0;
  // CPU time of the run (process.cpuUsage): wall time on a machine shared with other work
  // mostly measures waiting for a core. One untimed run each first: V8 compiles wasm lazily and
  // tiers up during the first run.
  for (let i = -1; i < RUNS; i++) {
    // Two fresh instances per child: the first tiers V8 up, the second is timed.
    const n = nodeWasi(lua, '/bench', scriptDir, 2, args);
    if (n === null) nodeCrashes++;
    else if (i >= 0) nodeMs.push(n.cpuMs[1]);
    const cpu = process.cpuUsage();
    const r = first.runSync({ args, mounts: [{ host: scriptDir, guest: '/bench' }], limits: { fuel: Infinity, timeoutMs: Infinity } });
    const used = process.cpuUsage(cpu);
    if (!r.ok || r.exitCode !== 0) throw new Error(`pyfence lua: ${JSON.stringify(r.error)} ${r.stderr}`);
    expected ??= r.stdout;
    if (r.stdout !== expected) throw new Error('pyfence lua output changed between runs');
    if (i < 0) continue;
    fenceMs.push((used.user + used.system) / 1000);
    log(`lua run ${i + 1}/${RUNS}: node:wasi ${n ? fmt(n.cpuMs[1]) : 'crashed'} ms, pyfence ${fmt(fenceMs[fenceMs.length - 1])} ms CPU (fuel ${r.usage.fuel.toExponential(2)})`);
  }
  if (nodeMs.length === 0) throw new Error('node:wasi crashed on every run');
  const ratio = median(nodeMs) / median(fenceMs);
  const best = Math.min(...nodeMs) / Math.min(...fenceMs);
  lines.push(
    `| Lua 5.4 (WASI), bench/wasi/cpu.lua, CPU ms, median of ${RUNS} (best)${nodeCrashes ? `; node:wasi crashed ${nodeCrashes}x` : ''} | ${fmt(median(nodeMs))} ms (${fmt(Math.min(...nodeMs))}) | ${fmt(median(fenceMs))} ms (${fmt(Math.min(...fenceMs))}), metered | ${ratio.toFixed(2)}x node:wasi's speed (best: ${best.toFixed(2)}x) |`,
  );
  lines.push(
    `| lua.wasm (${(bytes.length / 1024).toFixed(0)} KiB) first load: instrument + compile | — | ${fmt(firstMs)} ms (instrumenting alone ${fmt(first.meta.instrumentMs ?? NaN)} ms) | |`,
  );
  lines.push(`| lua.wasm cached load, median of 5: in memory / from the disk cache | — | ${fmt(memoryHitMs)} ms / ${fmt(diskHitMs)} ms | |`);
}

async function helloRows(lines: string[]): Promise<void> {
  const file = join(ROOT, 'test', 'fixtures', 'wasm', 'hello.wasm');
  const m = await WasmModule.compile(fs.readFileSync(file));
  for (let i = 0; i < 20; i++) m.runSync(); // warm-up
  const fence: number[] = [];
  for (let i = 0; i < HELLO_RUNS; i++) {
    const started = performance.now();
    const r = m.runSync();
    fence.push(performance.now() - started);
    if (r.stdout !== 'Hello, WASI!\n') throw new Error(`hello: ${JSON.stringify(r)}`);
  }
  const node = nodeWasi(file, '-', '-', HELLO_RUNS + 20, ['hello']);
  const nodeCell = node ? `${fmt(median(node.wallMs.slice(20)))} ms` : 'crashed';
  lines.push(`| fresh instance of a compiled WASI hello-world (wall), median of ${HELLO_RUNS} | ${nodeCell} | ${fmt(median(fence))} ms | |`);
  await workerRows(fs.readFileSync(file), lines);
}

/** The same hello-world on worker threads: one run's round trip, and a pool's throughput. */
async function workerRows(bytes: Uint8Array, lines: string[]): Promise<void> {
  const one = new WasmPool({ size: 1 });
  const started = performance.now();
  await one.ready();
  const startMs = performance.now() - started;
  const m = await WasmModule.compile(bytes, { pool: one });
  for (let i = 0; i < 20; i++) await m.run(); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < HELLO_RUNS; i++) {
    const t = performance.now();
    const r = await m.run();
    rounds.push(performance.now() - t);
    if (r.stdout !== 'Hello, WASI!\n') throw new Error(`hello in a worker: ${JSON.stringify(r)}`);
  }
  await one.close();
  const size = availableParallelism();
  const many = new WasmPool({ size });
  await many.ready();
  const pooled = await WasmModule.compile(bytes, { pool: many });
  const count = 1000; // within the default queue bound (1024)
  const t = performance.now();
  await Promise.all(Array.from({ length: count }, () => pooled.run()));
  const perSecond = count / ((performance.now() - t) / 1000);
  await many.close();
  lines.push(`| the same on a worker thread (isolation 'worker'): one run's round trip, median of ${HELLO_RUNS} | — | ${fmt(median(rounds))} ms | the module is posted, not recompiled; starting the worker took ${fmt(startMs)} ms |`);
  lines.push(`| the same on a WasmPool of ${size} workers: ${count} runs at once | — | ${perSecond.toFixed(0)} runs/s | |`);
}

const lines = ['| what | node:wasi | pyfence | |', '| --- | --- | --- | --- |'];
await helloRows(lines);
const noLua = process.argv.includes('--no-lua');
const lua = noLua ? null : buildLua();
if (lua) await luaRows(lua, lines);
else lines.push(`| Lua 5.4 (WASI) | skipped: ${noLua ? '--no-lua' : 'bench/wasi/build-lua.sh could not build lua.wasm (see stderr)'} | | |`);
process.stdout.write(`${lines.join('\n')}\n\nNode ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
process.exit(0);
