// What CPython's CPU time is made of: the same programs on the metered module (as shipped), on the
// same module built without the meter, and on python3 -- so the meter's share and the wasm build's
// share of the gap to python3 are measured apart. The unmetered module is built into a scratch
// directory with a copy of src/ beside it (the engine reads wasm/ next to its sources); nothing of it
// reaches wasm/. Each module runs every program in a child process of its own, start-up excluded.
// Each run is timed by the process's CPU time (python3's too: time.process_time), which a loaded
// machine disturbs far less than the wall clock (--clock wall for that), after --warmup passes over
// every program untimed: V8 compiles CPython's hot functions with its optimizing tier in the
// background over the first second or two of a process, and the metered module's are bigger and
// take longer, so the first passes measure the tier-up rather than the code (BENCHMARKS.md).
// The children get this process's V8 flags: run it with --experimental-wasm-branch-hinting to
// measure modules with branch hints as the pyfence command runs them.
// Run: node --import tsx bench/cpython-meter.ts [--runs N] [--rounds N] [--warmup N] [--clock cpu|wall] [--programs a.py,b.py] [--scratch DIR]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPython3 } from './lib/python3.js';
import { median } from './lib/stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', '3'));
const warmup = Number(arg('--warmup', '2'));
const clock = arg('--clock', 'cpu');
if (clock !== 'cpu' && clock !== 'wall') throw new Error('--clock is cpu or wall');
/** Microseconds of this process's CPU (all its threads: none compiles once warmed up) or of the wall clock. */
const now = () => (clock === 'cpu' ? ((u) => u.user + u.system)(process.cpuUsage()) : performance.now() * 1000);
const programs = join(root, 'bench/programs');

const only = arg('--programs', '');
const files = readdirSync(programs).filter((f) => f.endsWith('.py') && (!only || only.split(',').includes(f))).sort();

if (process.argv.includes('--child')) {
  // In a tree (this one or the scratch one): every program in one process, all of them `warmup`
  // times untimed first (V8 tiers the interpreter up over the first programs: start-up and warm-up
  // are excluded).
  const { Sandbox } = await import('../src/api/sandbox.js');
  const out: Record<string, { ms: number; stdout: string }> = {};
  for (let pass = 0; pass < warmup; pass++) {
    for (const file of files) {
      const sb = await Sandbox.create({ engine: 'cpython', limits: { fuel: Infinity, timeoutMs: 600_000, memoryBytes: 512 * 2 ** 20 } });
      await sb.run(readFileSync(join(programs, file), 'utf8'));
      sb.dispose();
    }
  }
  for (const file of files) {
    const code = readFileSync(join(programs, file), 'utf8');
    const sb = await Sandbox.create({ engine: 'cpython', limits: { fuel: Infinity, timeoutMs: 600_000, memoryBytes: 512 * 2 ** 20 } });
    const times: number[] = [];
    let stdout = '';
    for (let i = 0; i < runs; i++) {
      const t0 = now();
      const r = await sb.run(code);
      times.push((now() - t0) / 1000);
      if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.error)}`);
      stdout = r.stdout;
    }
    sb.dispose();
    out[file] = { ms: median(times), stdout };
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}

/** A tree whose wasm/ holds the unmetered module: src/ copied (its wasm/ is found beside it). */
function unmeteredTree(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'build/cpython/build.ts'), '--unmetered', '--out', join(dir, 'wasm')], { cwd: root, stdio: 'inherit' });
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
  cpSync(join(root, 'bench'), join(dir, 'bench'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(root, f), join(dir, f));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function timesIn(tree: string): Record<string, { ms: number; stdout: string }> {
  const flags = process.execArgv.includes('tsx') ? process.execArgv : ['--import', 'tsx', ...process.execArgv];
  const args = [...flags, join(tree, 'bench/cpython-meter.ts'), '--child', '--runs', String(runs), '--warmup', String(warmup), '--clock', clock, '--programs', only];
  const out = execFileSync(process.execPath, args, { cwd: tree, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const rounds = Number(arg('--rounds', '2'));
const scratch = unmeteredTree(arg('--scratch', '/tmp/pyfence-cpython-unmetered'));
// Rounds alternate the two modules and python3; each program's best round is kept (a loaded
// machine only ever makes a run slower).
type Times = Record<string, { ms: number; stdout: string }>;
const best = (into: Times | null, round: Times): Times => {
  if (!into) return round;
  for (const [file, t] of Object.entries(round)) if (t.ms < into[file].ms) into[file] = t;
  return into;
};
let meteredTimes: Times | null = null;
let bareTimes: Times | null = null;
const python3: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  meteredTimes = best(meteredTimes, timesIn(root));
  bareTimes = best(bareTimes, timesIn(scratch));
  for (const file of files) {
    // python3 warms up too: its first run of a program compiles it and specializes its bytecode.
    const native = await runPython3(readFileSync(join(programs, file), 'utf8'), warmup + runs, file, 'python3', clock);
    const ms = native.status === 'ok' ? median(native.times.slice(warmup)) : NaN;
    python3[file] = Math.min(python3[file] ?? Infinity, ms);
  }
}
console.log(`${clock === 'cpu' ? 'CPU' : 'wall'} ms, median of ${runs} runs after ${warmup} untimed passes, best of ${rounds} rounds; V8 flags: ${process.execArgv.filter((f) => f.startsWith('--') && f !== '--import').join(' ') || 'none'}`);
const rows: string[] = ['| program | metered ms | unmetered ms | python3 ms | meter (metered/unmetered) | build (unmetered/python3) | metered/python3 |', '| --- | --- | --- | --- | --- | --- | --- |'];
const meter: number[] = [];
const build: number[] = [];
const total: number[] = [];
const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
for (const file of files) {
  const metered = meteredTimes![file];
  const bare = bareTimes![file];
  if (bare.stdout !== metered.stdout) throw new Error(`${file}: the unmetered module printed something else`);
  const py = python3[file];
  meter.push(metered.ms / bare.ms);
  if (Number.isFinite(py)) build.push(bare.ms / py), total.push(metered.ms / py);
  rows.push(`| ${file} | ${metered.ms.toFixed(1)} | ${bare.ms.toFixed(1)} | ${py.toFixed(1)} | ${(metered.ms / bare.ms).toFixed(2)}x | ${(bare.ms / py).toFixed(2)}x | ${(metered.ms / py).toFixed(2)}x |`);
}
rows.push(`| geomean | | | | ${geomean(meter).toFixed(2)}x | ${geomean(build).toFixed(2)}x | ${geomean(total).toFixed(2)}x |`);
console.log(rows.join('\n'));
