// pyfence's WASI runtime side by side with node:wasi, in one run:
//  1. CPU-bound Lua (Debian's lua5.4 built for WASI by bench/wasi/build-lua.sh into the gitignored
//     bench/.cache; the row is skipped with the reason when it cannot be built) on bench/wasi/cpu.lua;
//  2. a fresh instance of an already compiled WASI hello-world (test/fixtures/wasm/hello.wasm);
//  3. first load (instrumentation) and cached loads (memory, disk) of lua.wasm.
// Usage: npm run bench:wasi [-- --runs N]. Markdown on stdout, progress on stderr.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { WasmModule } from '../src/guests/wasi/module.js';
import { clearModuleCache } from '../src/instrument/load.js';

const ROOT = join(import.meta.dirname, '..');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 7;
const HELLO_RUNS = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(0));
const log = (s: string) => process.stderr.write(s + '\n');

function nodeWasiRun(module: WebAssembly.Module, args: string[], preopens: Record<string, string>): { ms: number; exitCode: number } {
  const devnull = fs.openSync('/dev/null', 'w');
  try {
    const started = performance.now();
    const wasi = new WASI({ version: 'preview1', args, preopens, stdout: devnull, returnOnExit: true });
    const instance = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
    const exitCode = wasi.start(instance);
    return { ms: performance.now() - started, exitCode };
  } finally {
    fs.closeSync(devnull);
  }
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
  t = performance.now();
  await WasmModule.compile(bytes);
  const memoryHitMs = performance.now() - t;
  clearModuleCache();
  t = performance.now();
  await WasmModule.compile(bytes, { cacheDir });
  const diskHitMs = performance.now() - t;
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const plain = new WebAssembly.Module(bytes);

  const nodeMs: number[] = [];
  const fenceMs: number[] = [];
  let expected: string | null = null;
  // One untimed run each first: V8 compiles wasm lazily and tiers up during the first run.
  for (let i = -1; i < RUNS; i++) {
    const n = nodeWasiRun(plain, args, { '/bench': scriptDir });
    if (n.exitCode !== 0) throw new Error(`node:wasi lua exited ${n.exitCode}`);
    if (i >= 0) nodeMs.push(n.ms);
    const r = await first.run({ args, mounts: [{ host: scriptDir, guest: '/bench' }], limits: { fuel: Infinity, timeoutMs: Infinity } });
    if (!r.ok || r.exitCode !== 0) throw new Error(`pyfence lua: ${JSON.stringify(r.error)} ${r.stderr}`);
    expected ??= r.stdout;
    if (r.stdout !== expected) throw new Error('pyfence lua output changed between runs');
    if (i < 0) continue;
    fenceMs.push(r.usage.wallMs);
    log(`lua run ${i + 1}/${RUNS}: node:wasi ${fmt(n.ms)} ms, pyfence ${fmt(r.usage.wallMs)} ms (fuel ${r.usage.fuel.toExponential(2)})`);
  }
  const ratio = median(nodeMs) / median(fenceMs);
  const best = Math.min(...nodeMs) / Math.min(...fenceMs);
  lines.push(
    `| Lua 5.4 (WASI), bench/wasi/cpu.lua, median of ${RUNS} (best) | ${fmt(median(nodeMs))} ms (${fmt(Math.min(...nodeMs))}) | ${fmt(median(fenceMs))} ms (${fmt(Math.min(...fenceMs))}), metered | ${ratio.toFixed(2)}x node:wasi's speed (best: ${best.toFixed(2)}x) |`,
  );
  lines.push(
    `| lua.wasm (${(bytes.length / 1024).toFixed(0)} KiB) first load: instrument + compile | — | ${fmt(firstMs)} ms (instrumenting alone ${fmt(first.meta.instrumentMs ?? NaN)} ms) | |`,
  );
  lines.push(`| lua.wasm cached load: in memory / from the disk cache | — | ${fmt(memoryHitMs)} ms / ${fmt(diskHitMs)} ms | |`);
}

async function helloRows(lines: string[]): Promise<void> {
  const bytes = fs.readFileSync(join(ROOT, 'test', 'fixtures', 'wasm', 'hello.wasm'));
  const m = await WasmModule.compile(bytes);
  const plain = new WebAssembly.Module(bytes);
  for (let i = 0; i < 20; i++) m.runSync(); // warm-up
  const fence: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < HELLO_RUNS; i++) {
    const started = performance.now();
    const r = m.runSync();
    fence.push(performance.now() - started);
    if (r.stdout !== 'Hello, WASI!\n') throw new Error(`hello: ${JSON.stringify(r)}`);
    node.push(nodeWasiRun(plain, ['hello'], {}).ms);
  }
  lines.push(`| fresh instance of a compiled WASI hello-world, median of ${HELLO_RUNS} | ${fmt(median(node))} ms | ${fmt(median(fence))} ms | |`);
}

const lines = ['| what | node:wasi | pyfence | |', '| --- | --- | --- | --- |'];
await helloRows(lines);
const lua = buildLua();
if (lua) await luaRows(lua, lines);
else lines.push('| Lua 5.4 (WASI) | skipped: bench/wasi/build-lua.sh could not build lua.wasm (see stderr) | | |');
process.stdout.write(`${lines.join('\n')}\n\nNode ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
process.exit(0);
