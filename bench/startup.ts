// Start-up as a user meets it, in one run, each figure a ratio against bare Node measured alongside:
//  - `import('pyfence')` (the package by name) against `node -e 0`;
//  - `pyfence run -c pass` on each engine against `node -e 0` (the CLI's code cache filled by the
//    warm-up run, as from a user's second command on);
//  - a second `pyfence wasm` run of a ~600 KB WASI program (its instrumented module in the disk
//    cache) against node:wasi running the same module (lua.wasm when bench/wasi/build-lua.sh could
//    build it, else a generated module of that size);
//  - with --install: the size of node_modules after `npm install` of the packed tarball.
// Each row also gets the median CPU time of its runs (Linux), steadier than wall time under load.
// Runs are interleaved (iteration i runs every row once) so machine load hits all rows alike.
// With --baseline DIR (another checkout, built), the pyfence rows run for it too, in the same
// rounds, as "baseline:" rows: a before/after from one run, on the same load.
// Usage: npm run bench:startup [-- --runs N] [--install] [--baseline DIR]. Markdown on stdout, progress on stderr.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { median } from './lib/stats.js';

const ROOT = join(import.meta.dirname, '..');
/** The command users run: the package's bin (the bundled entry, build/bundle.mjs). */
const CLI = join(ROOT, JSON.parse(fs.readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.pyfence);
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 15;
const log = (s: string) => process.stderr.write(s + '\n');

/** A WASI command of about `kb` KB: many small functions, _start calls them and prints "ok". */
function generatedWasi(kb: number): Uint8Array {
  const fns: string[] = [];
  const count = Math.round(kb * 14.6);
  for (let i = 0; i < count; i++) {
    fns.push(`(func $f${i} (param $x i32) (result i32) (local $i i32) (local $acc i32)
      (local.set $acc (local.get $x))
      (loop $l (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const ${(i % 97) + 3})) (i32.xor (local.get $i) (i32.const ${i}))))
        (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 4))))
      (if (result i32) (i32.gt_u (local.get $acc) (i32.const ${i * 31})) (then (i32.sub (local.get $acc) (i32.const ${i}))) (else (i32.add (local.get $acc) (i32.const 7)))))`);
  }
  const calls = Array.from({ length: count }, (_, i) => `(local.set $s (call $f${i} (local.get $s)))`).join('\n');
  const wat = `(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "ok\\n")
    ${fns.join('\n')}
    (func (export "_start") (local $s i32)
      ${calls}
      (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 3))
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
  const module = binaryen.parseText(wat);
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}

function wasiProgram(): { file: string; name: string } {
  const lua = join(ROOT, 'bench', '.cache', 'lua', 'lua.wasm');
  if (fs.existsSync(lua)) return { file: lua, name: 'lua.wasm' };
  const file = join(ROOT, 'bench', '.cache', 'startup-600k.wasm');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(join(ROOT, 'bench', '.cache'), { recursive: true });
    fs.writeFileSync(file, generatedWasi(600));
  }
  return { file, name: `a generated WASI program (${Math.round(fs.statSync(file).size / 1024)} KB; lua.wasm could not be built here)` };
}

interface Row {
  name: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** The working directory (default: this checkout). */
  cwd?: string;
  /** The row its ratio is against. */
  baseline?: string;
  ms: number[];
  /** CPU time of each run, where the platform tells it. */
  cpuMs: number[];
}

/**
 * CPU time (user + system, ms) of this process's waited-for children so far, from /proc (Linux; null
 * elsewhere). On a loaded machine a child's wall time is mostly its wait for a core; its CPU time is not.
 */
function childrenCpuMs(): number | null {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // cutime, cstime in USER_HZ (100)
  } catch {
    return null;
  }
}

function timed(row: Row): { ms: number; cpuMs: number | null } {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const r = spawnSync(row.argv[0], row.argv.slice(1), { cwd: row.cwd ?? ROOT, env: { ...process.env, ...row.env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${row.name}: exit ${r.status ?? r.signal}: ${r.stderr}`);
  const cpuAfter = childrenCpuMs();
  return { ms, cpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null };
}

function installSize(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'pyfence-install-size-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }));
  const project = join(dir, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(join(project, 'package.json'), '{"name":"size","private":true}');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], { cwd: project, stdio: 'ignore' });
  const bytes = Number(execFileSync('du', ['-sb', join(project, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  const count = execFileSync('npm', ['ls', '--all', '--parseable'], { cwd: project, encoding: 'utf8' }).trim().split('\n').length - 1;
  fs.rmSync(dir, { recursive: true, force: true });
  return `| node_modules of \`npm install pyfence\` (packed tarball, no optional or peer packages) | ${(bytes / 2 ** 20).toFixed(1)} MiB, ${count} packages | target <= 60 MiB |`;
}

const temporaryDirs: string[] = [];
function temporaryDir(prefix: string): string {
  const dir = fs.mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}

/** The pyfence rows again for the checkout at `root` (its bin, its own caches), each against the same baseline row. */
function baselineRows(root: string | undefined, wasiFile: string, rows: Row[]): Row[] {
  if (!root || !fs.existsSync(join(root, 'package.json'))) throw new Error('--baseline takes the directory of another built checkout');
  const cli = join(root, JSON.parse(fs.readFileSync(join(root, 'package.json'), 'utf8')).bin.pyfence);
  const env = { PYFENCE_CODE_CACHE: temporaryDir('pyfence-startup-code-baseline-') };
  const wasmCache = temporaryDir('pyfence-startup-cache-baseline-');
  const argvOf = (name: string, cliArgs: string[]) => (name.startsWith('`import') ? rows.find((r) => r.name === name)!.argv : [process.execPath, cli, ...cliArgs]);
  const same: [string, string[], NodeJS.ProcessEnv][] = [
    ["`import('pyfence')`", [], {}],
    ['`pyfence run -c pass`', ['run', '-c', 'pass'], env],
    ['`pyfence run --engine cpython -c pass`', ['run', '--engine', 'cpython', '-c', 'pass'], env],
    ['`pyfence wasm`, the WASI program, cached', ['wasm', wasiFile], { ...env, PYFENCE_WASM_CACHE: wasmCache }],
  ];
  return same.map(([name, cliArgs, rowEnv]) => ({ name: `baseline: ${name}`, argv: argvOf(name, cliArgs), env: rowEnv, cwd: root, baseline: rows.find((r) => r.name === name)!.baseline, ms: [], cpuMs: [] }));
}

async function main(): Promise<void> {
  const node = process.execPath;
  const wasi = wasiProgram();
  const cache = temporaryDir('pyfence-startup-cache-');
  const codeCache = temporaryDir('pyfence-startup-code-');
  const cli = { PYFENCE_CODE_CACHE: codeCache };
  const nodeWasi = `const { WASI } = require('node:wasi'); const w = new WASI({ version: 'preview1', args: ['p'], returnOnExit: true });
    const m = new WebAssembly.Module(require('node:fs').readFileSync(${JSON.stringify(wasi.file)}));
    w.start(new WebAssembly.Instance(m, w.getImportObject()));`;
  const rows: Row[] = [
    { name: '`node -e 0`', argv: [node, '-e', '0'], ms: [], cpuMs: [] },
    { name: "`import('pyfence')`", argv: [node, '--input-type=module', '-e', "await import('pyfence')"], baseline: '`node -e 0`', ms: [], cpuMs: [] },
    { name: '`pyfence run -c pass`', argv: [node, CLI, 'run', '-c', 'pass'], env: cli, baseline: '`node -e 0`', ms: [], cpuMs: [] },
    { name: '`pyfence run --engine cpython -c pass`', argv: [node, CLI, 'run', '--engine', 'cpython', '-c', 'pass'], env: cli, baseline: '`node -e 0`', ms: [], cpuMs: [] },
    { name: 'node:wasi, the WASI program', argv: [node, '--no-warnings', '-e', nodeWasi], ms: [], cpuMs: [] },
    { name: '`pyfence wasm`, the WASI program, cached', argv: [node, CLI, 'wasm', wasi.file], env: { ...cli, PYFENCE_WASM_CACHE: cache }, baseline: 'node:wasi, the WASI program', ms: [], cpuMs: [] },
  ];
  const baselineFlag = process.argv.indexOf('--baseline');
  if (baselineFlag > 0) rows.push(...baselineRows(process.argv[baselineFlag + 1], wasi.file, rows));
  const loadBefore = loadavg()[0];
  log(`warming up (the first pyfence wasm run fills the cache: ${wasi.name})`);
  for (const row of rows) timed(row);
  for (let i = 0; i < RUNS; i++) {
    for (const row of rows) {
      const { ms, cpuMs } = timed(row);
      row.ms.push(ms);
      if (cpuMs !== null) row.cpuMs.push(cpuMs);
    }
    log(`run ${i + 1}/${RUNS}`);
  }
  for (const dir of temporaryDirs) fs.rmSync(dir, { recursive: true, force: true });
  const medianOf = (name: string) => median(rows.find((r) => r.name === name)!.ms);
  const cpuMedianOf = (name: string) => median(rows.find((r) => r.name === name)!.cpuMs);
  const withCpu = rows.every((r) => r.cpuMs.length === r.ms.length);
  const lines = [
    `Start-up, ${RUNS} interleaved runs, median wall time of a child process (Node ${process.version}, load average ${loadBefore.toFixed(1)} before and ${loadavg()[0].toFixed(1)} after); WASI program: ${wasi.name}.`,
    '',
    withCpu ? '| what | median ms | ratio | median CPU ms | CPU ratio | against |' : '| what | median ms | ratio | against |',
    withCpu ? '| --- | ---: | ---: | ---: | ---: | --- |' : '| --- | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const m = median(row.ms);
    const ratio = row.baseline ? `${(m / medianOf(row.baseline)).toFixed(2)}x` : '1.00x';
    const over = row.baseline ? ` (+${(m - medianOf(row.baseline)).toFixed(0)} ms)` : '';
    const cpu = median(row.cpuMs);
    const cpuCells = withCpu ? ` ${cpu.toFixed(0)} | ${row.baseline ? (cpu / cpuMedianOf(row.baseline)).toFixed(2) : '1.00'}x |` : '';
    lines.push(`| ${row.name} | ${m.toFixed(0)}${over} | ${ratio} |${cpuCells} ${row.baseline ?? 'itself'} |`);
  }
  if (process.argv.includes('--install')) {
    log('packing and installing the tarball');
    lines.push('', '| install | size | |', '| --- | --- | --- |', installSize());
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
