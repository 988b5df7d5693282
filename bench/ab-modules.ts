// Compares builds of the sandbox module on the CPU benchmark programs: every program runs on a fresh
// instance of each module, interleaved run by run (bench/lib/interleave.ts); prints the median ms per
// module and its ratio to the first module, and the geometric mean of those ratios.
// usage: npx tsx bench/ab-modules.ts [--cpu] [--held-out] [--branch-hints] <runs> <a.wasm> <b.wasm>... [-- program ...]
// --held-out measures bench/programs-held-out instead of bench/programs. --cpu times each run by the process's CPU time instead of the wall clock (steadier on a loaded machine).
// --branch-hints: V8 reads the modules' branch hints (--experimental-wasm-branch-hinting; src/instrument/branch-hints.ts).
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { EngineInstance } from '../src/guests/micropython/instance.js';
import { execSource } from '../src/guests/micropython/interpreter.js';
import { cpuClock, interleave, wallClock, type Contender } from './lib/interleave.js';
import { loadPrograms } from './lib/programs.js';
import { geomean } from './lib/stats.js';

function usage(message: string): never {
  console.error(`ab-modules: ${message}\nusage: npx tsx bench/ab-modules.ts [--cpu] [--held-out] [--branch-hints] <runs> <a.wasm> <b.wasm>... [-- program ...]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const options = new Set<string>();
while (['--cpu', '--held-out', '--branch-hints'].includes(args[0])) options.add(args.shift()!);
const cpu = options.has('--cpu');
const heldOut = options.has('--held-out');
// Before any module is compiled: V8 reads a module's branch hints only under this flag (process-wide).
if (options.has('--branch-hints')) setFlagsFromString('--experimental-wasm-branch-hinting');
const runs = Number(args.shift());
if (!Number.isInteger(runs) || runs < 1) usage('<runs> must be a positive integer');
const sep = args.includes('--') ? args.indexOf('--') : args.length;
const files = args.slice(0, sep);
if (files.length < 1) usage('give at least one .wasm file');
const programs = loadPrograms(sep < args.length ? args.slice(sep + 1).map((p) => p.replace(/^.*\//, '').replace(/\.py$/, '')) : undefined, heldOut ? 'held-out' : 'main');
const modules = files.map((f) => {
  try {
    return new WebAssembly.Module(readFileSync(f));
  } catch (e) {
    return usage(`${f}: ${(e as Error).message}`);
  }
});

const decoder = new TextDecoder();
function contender(name: string, module: WebAssembly.Module, code: string): Contender & { peakBytes: () => number } {
  let inst: EngineInstance | undefined;
  let out = '';
  return {
    name,
    before: () => {
      inst?.release(); // as a disposed sandbox does: its memory serves the next instance
      out = '';
      const write = (b: Uint8Array) => void (out += decoder.decode(b));
      inst = new EngineInstance(module, {
        stdout: write,
        stderr: write,
        clock: { ticksMs: () => performance.now(), timeMs: () => Date.now() },
        randomU32: () => 1,
        memoryLimitBytes: 2 ** 30,
        sleep: () => {},
        hostCall: () => {
          throw new Error('benchmark programs do not call the host');
        },
      });
    },
    run: () => {
      const r = execSource(inst!, code);
      return { ok: r.kind === 'ok', stdout: out, error: r.kind === 'ok' ? undefined : JSON.stringify(r) };
    },
    peakBytes: () => inst!.memoryPeakBytes,
  };
}

const ratios: number[][] = files.map(() => []);
let mismatch = false;
for (const program of programs) {
  const contenders = modules.map((m, k) => contender(files[k], m, program.code));
  const results = await interleave(contenders, runs, 1, cpu ? cpuClock : wallClock);
  const base = results[0];
  const cells = results.map((r, k) => {
    const same = r.first.ok && r.stable && r.first.stdout === base.first.stdout;
    mismatch ||= !same;
    ratios[k].push(r.sample.median / base.sample.median);
    const peak = (contenders[k].peakBytes() / 2 ** 20).toFixed(1);
    return `${r.sample.median.toFixed(0).padStart(6)} (${(r.sample.median / base.sample.median).toFixed(2)}) ${peak}M${same ? '' : ' MISMATCH'}`;
  });
  console.log(program.name.padEnd(14) + cells.join('  |'));
}
console.log('geomean ratio vs first: ' + ratios.map((r) => geomean(r).toFixed(3)).join(' '));
if (mismatch) process.exit(1);
