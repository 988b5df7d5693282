// Builds wasm/cpython.wasm from the pinned pyodide package's CPython (without Pyodide's JS glue) and
// copies its standard library zip next to it. Deterministic, cached by input hash; the MicroPython
// build (build/build.ts) is untouched by it.
import binaryen from 'binaryen';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPYTHON_FILES, CPYTHON_RUNTIME_EXPORTS, CPYTHON_STATE_PREFIX, CPYTHON_TABLE_PREFIX } from '../../src/guests/cpython/abi.js';
import { sha256 } from '../pinned.js';
import { meterModule } from '../meter-build.js';
import { hintFuelChecks } from '../../src/instrument/branch-hints.js';
import { PINNED_FILES, PYODIDE_VERSION, readPinned } from './pinned.js';
import { resolveGotImports, exportMutableGlobals, exportOtherTables, keepExports, countGuardedWrites, sleepThroughHost } from './module-edits.js';
import { bakeState } from './bake-state.js';
import { compileStdlib, compiledStdlibInputs } from './compile-stdlib.js';
import { frameRecursion } from './shadow-frames.js';
import { hashDeepTuplesIteratively } from './tuple-hash.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag > 0 ? process.argv[outFlag + 1] : join(root, 'wasm');
const manifestPath = join(outDir, CPYTHON_FILES.manifest);
/**
 * For bench/cpython-meter.ts only (with --out elsewhere): the module without the meter, to tell what
 * the meter costs from what the wasm build costs. Nothing in the engine loads such a module: it could
 * not be stopped.
 */
const unmetered = process.argv.includes('--unmetered');
if (unmetered && outFlag < 0) throw new Error('pyfence: an unmetered CPython is built with --out <dir>, never into wasm/');

/**
 * The wasm features the module uses and V8 (Node 20) runs. Enabling all of binaryen's features would
 * make it emit encodings V8 rejects.
 */
const FEATURES =
  binaryen.Features.MVP |
  binaryen.Features.MutableGlobals |
  binaryen.Features.NontrappingFPToInt |
  binaryen.Features.SignExt |
  binaryen.Features.BulkMemory |
  binaryen.Features.BulkMemoryOpt |
  binaryen.Features.CallIndirectOverlong |
  binaryen.Features.ExceptionHandling |
  binaryen.Features.ReferenceTypes |
  binaryen.Features.Multivalue |
  binaryen.Features.SIMD128;

/**
 * Passes over the metered module. The meter gives functions locals of their own (the eval loop's 44
 * became 843), and V8's baseline compiler spends time per local at every branch: `pyfence run
 * --engine cpython -c pass` compiles the eval loop first. Coalesced, the eval loop has 45 again and
 * that start takes about a quarter less CPU. The passes only merge and renumber locals: every write of the
 * fuel global stays, and fuel is the same to the unit.
 */
const AFTER_METER_PASSES = ['coalesce-locals', 'reorder-locals'];

/**
 * binaryen's -O3 over the module as edited and with only the runtime's exports left (so functions
 * no longer exported can be inlined or dropped), before the meter: Pyodide's build was optimized
 * with every symbol exported. Measured by CPU time over bench/programs (three interleaved
 * processes, best of 3, after 2 warm-up passes): 0.92x the time without the meter (dicts 0.88x,
 * sort 0.87x; munging 1.03x the one slower), 0.93x with it, the same output. The meter runs on the
 * optimized code, so every check and settle it makes is in the module as shipped. The cost: the
 * eval loop, with more inlined into it, takes V8 ~540 ms to optimize where it took ~220.
 * Larger inlining limits (-fimfs 60 -ocimfs 3000) measured 1.00x against this: not taken.
 */
function optimize(m: binaryen.Module): void {
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(0);
  m.optimize();
}

/** The sources the module depends on (the transform, the metering pass and what it uses; not the bake). */
const SOURCES = ['build/cpython/build.ts', 'build/cpython/module-edits.ts', 'build/cpython/pinned.ts', 'build/cpython/shadow-frames.ts', 'build/cpython/data-image.ts', 'build/cpython/tuple-hash.ts', 'build/meter-build.ts', 'src/instrument/meter.ts', 'src/instrument/instructions.ts', 'src/instrument/sections.ts', 'src/instrument/decoded-code.ts', 'src/instrument/branch-hints.ts', 'src/engine/wasm-binary.ts', 'build/walk.ts',
  'build/binaryen-extra.ts', 'build/wasm-inspect.ts', 'build/pinned.ts', 'src/guests/cpython/abi.ts', 'src/engine/abi.ts'];

function inputHash(): string {
  const parts: string[] = [];
  const add = (rel: string) => {
    const p = join(root, rel);
    if (!p.endsWith('.ts')) {
      for (const e of readdirSync(p).sort()) add(join(rel, e));
      return;
    }
    parts.push(rel + '\0' + readFileSync(p, 'utf8'));
  };
  SOURCES.forEach(add);
  const binaryenVersion = JSON.parse(readFileSync(join(root, 'node_modules/binaryen/package.json'), 'utf8')).version;
  return sha256([PYODIDE_VERSION, ...Object.values(PINNED_FILES), binaryenVersion, ...parts, ...(unmetered ? ['unmetered'] : [])].join('\0'));
}

function timed<T>(times: Record<string, number>, label: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  times[label] = Math.round(performance.now() - t0);
  return out;
}

function transform(input: Uint8Array) {
  const times: Record<string, number> = {};
  let m = timed(times, 'readMs', () => binaryen.readBinary(input));
  m.setFeatures(FEATURES);
  const gotImports = resolveGotImports(m);
  const sleep = sleepThroughHost(m);
  const shadowFrames = frameRecursion(m, input);
  const tupleHash = hashDeepTuplesIteratively(m, input);
  // Every global the edits above added is state too (tupleHash's nesting count): exported, so a
  // snapshot, a template restore and a reused instance all set it.
  const stateGlobals = exportMutableGlobals(m, CPYTHON_STATE_PREFIX);
  const tables = exportOtherTables(m, CPYTHON_TABLE_PREFIX);
  const exportsRemoved = keepExports(m, [...CPYTHON_RUNTIME_EXPORTS, ...stateGlobals, ...tables]);
  timed(times, 'optimizeMs', () => optimize(m));
  let metering = null;
  if (!unmetered) {
    ({ module: m, report: metering } = timed(times, 'meteringMs', () => meterModule(m)));
    timed(times, 'localsMs', () => m.runPasses(AFTER_METER_PASSES));
  }
  const { memoryGrows, functionTableWrites } = timed(times, 'scanMs', () => countGuardedWrites(m));
  if (memoryGrows !== 0) throw new Error(`cpython: ${memoryGrows} memory.grow instructions: growth must go through the host`);
  if (functionTableWrites !== 0) throw new Error(`cpython: ${functionTableWrites} writes of the function table: a used instance could not serve another interpreter`);
  if (!timed(times, 'validateMs', () => m.validate())) throw new Error('cpython: transformed module does not validate');
  const emitted = timed(times, 'emitMs', () => m.emitBinary());
  m.dispose();
  // The meter's checks hinted unlikely, on the final code, as MicroPython's (build/build.ts). With
  // V8 reading hints, 3.5-7% less CPU in steady state over bench/programs (three interleaved
  // processes, 8 passes each after 4) and no more CPU in a process's first pass, where V8 compiles
  // the eval loop (BENCHMARKS.md, "CPython: the meter's CPU time").
  const { bytes, hints: branchHints } = unmetered ? { bytes: emitted, hints: 0 } : hintFuelChecks(emitted);
  return { bytes, report: { sha256: sha256(bytes), bytes: bytes.length, gotImports, sleep, shadowFrames, tupleHash, stateGlobals, tables, exportsRemoved, metering, branchHints, memoryGrows, functionTableWrites, times } };
}

function readManifest(): Record<string, any> | null {
  return existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : null;
}

/** True if `file` under outDir exists with the manifest's hash for it. */
function fileMatches(kind: 'module' | 'stdlib', manifest: Record<string, any>): boolean {
  const file = join(outDir, CPYTHON_FILES[kind]);
  return existsSync(file) && manifest[kind]?.sha256 === sha256(readFileSync(file));
}

function upToDate(hash: string): boolean {
  const manifest = readManifest();
  if (process.argv.includes('--force') || !manifest) return false;
  return manifest.inputHash === hash && fileMatches('module', manifest);
}

function buildModule(): void {
  const hash = inputHash();
  if (upToDate(hash)) {
    console.log('pyfence: wasm/cpython.wasm is up to date');
    return;
  }
  const t0 = performance.now();
  const input = readPinned('pyodide.asm.wasm');
  mkdirSync(outDir, { recursive: true });
  const { bytes, report } = transform(input);
  writeFileSync(join(outDir, CPYTHON_FILES.module), bytes);
  const manifest = {
    inputHash: hash,
    source: { package: `pyodide@${PYODIDE_VERSION}`, files: PINNED_FILES },
    module: report,
    stdlib: readManifest()?.stdlib, // still valid if the module's bytes are the same (buildStdlib checks)
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const ms = Math.round(performance.now() - t0);
  console.log(`pyfence: built wasm/${CPYTHON_FILES.module} (${bytes.length} bytes, ${report.sha256.slice(0, 12)}) in ${ms} ms ${JSON.stringify(report.times)}`);
}

/** The stdlib zip with the build's .pyc (compile-stdlib.ts), remade when the module or its sources change. */
function buildStdlib(): void {
  const manifest = readManifest()!;
  const inputs = compiledStdlibInputs(manifest.module.sha256, PINNED_FILES['python_stdlib.zip']);
  if (!process.argv.includes('--force') && manifest.stdlib?.inputs === inputs && fileMatches('stdlib', manifest)) {
    console.log(`pyfence: wasm/${CPYTHON_FILES.stdlib} is up to date`);
    return;
  }
  const module = new Uint8Array(readFileSync(join(outDir, CPYTHON_FILES.module)));
  const { zip, compiled, skipped, ms } = compileStdlib(module, readPinned('python_stdlib.zip'));
  writeFileSync(join(outDir, CPYTHON_FILES.stdlib), zip);
  manifest.stdlib = { sha256: sha256(zip), bytes: zip.length, source: PINNED_FILES['python_stdlib.zip'], inputs, compiled, skipped, ms };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`pyfence: compiled wasm/${CPYTHON_FILES.stdlib} (${compiled} modules, ${skipped} not compilable, ${zip.length} bytes) in ${ms} ms`);
}

function build(): void {
  buildModule();
  buildStdlib();
  bakeState(outDir);
}

build();
