// Builds wasm/pyfence.wasm (and the unmetered variant used only by benchmarks) from the pinned
// MicroPython wasm. Deterministic, cached by input hash.
import binaryen from 'binaryen';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FUEL_GLOBAL_EXPORT, MODULE_FILES, RUNTIME_EXPORTS, type ModuleVariant } from '../src/engine/abi.js';
import { PINNED_SHA256, readPinnedWasm, sha256 } from './pinned.js';
import { rewriteLongjmpToNativeExceptions } from './passes/exceptions.js';
import { trapFatalLoops } from './passes/fatal-loops.js';
import { replaceSpinSleeps } from './passes/sleep.js';
import { meterModule } from './meter-build.js';
import { hintFuelChecks } from '../src/instrument/branch-hints.js';
import { bakeInitialisedState } from './bake.js';
import { exportStateGlobals, keepOnlyExports } from './passes/strip-exports.js';
import { enableMidRunGc } from './passes/mid-run-gc.js';
import { nameStackPointer, STACK_POINTER_NAME } from './gc/stack-pointer-name.js';
import { MEMORY_BYTES_GLOBAL, useLogicalMemorySize } from './passes/logical-memory.js';
import { growStringsGeometrically } from './passes/vstr-growth.js';
import { improveHashTables } from './passes/hash-tables.js';
import { walkAsciiEightAtATime } from './passes/utf8-index.js';
import { filterInternedLookups } from './passes/qstr-filter.js';
import { formatBigIntsOnHost } from './passes/mpz-format.js';
import { divideBySmallIntsShort } from './passes/mpz-short-division.js';
import { printJsonRunsAtOnce } from './passes/json-strings.js';
import { checkJsonStreamSlot, readJsonFromStringioDirectly } from './passes/json-stream.js';
import { hashFourBytesARound, hashStrLookupsFourBytesARound } from './passes/str-hash.js';
import { skipFullAllocationTableBytes } from './passes/gc-atb-scan.js';
import { unrollCollectorLoops } from './passes/gc-loop-unroll.js';
import { enlargeMarkStack } from './passes/gc-mark-stack.js';
import { findGcFunctions, findGcLayout } from './gc/find-gc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere (the determinism test rebuilds into a temporary directory).
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag > 0 ? process.argv[outFlag + 1] : join(root, 'wasm');
const manifestPath = join(outDir, 'manifest.json');
const EXPECTED_FATAL_LOOPS = 2; // nlr_jump_fail and __fatal_error

/** Everything the output depends on: the input wasm, this build's sources, binaryen's version. */
function inputHash(): string {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory() && p === join(root, 'build', 'cpython')) continue; // its own build (build/cpython/build.ts)
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') || p.endsWith('.py')) sources.push(p.slice(root.length) + '\0' + readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, 'build'));
  walk(join(root, 'src', 'engine'));
  walk(join(root, 'src', 'instrument')); // the meter (its trusted mode)
  walk(join(root, 'src', 'abi', 'emscripten')); // the syscalls the interpreter runs on while baking
  walk(join(root, 'src', 'guests', 'micropython'));
  walk(join(root, 'src', 'core')); // what the engine and the bake's exec path import
  walk(join(root, 'src', 'guests', 'python-common', 'guest')); // requests.py, baked into the prelude
  const policy = join(root, 'src', 'capabilities', 'import-policy.ts'); // the prelude's default denials
  sources.push(policy.slice(root.length) + '\0' + readFileSync(policy, 'utf8'));
  const binaryenVersion = JSON.parse(readFileSync(join(root, 'node_modules/binaryen/package.json'), 'utf8')).version;
  return sha256([PINNED_SHA256, binaryenVersion, ...sources].join('\0'));
}

function transform(input: Uint8Array, variant: ModuleVariant) {
  let m = binaryen.readBinary(nameStackPointer(input));
  const exceptions = rewriteLongjmpToNativeExceptions(m);
  const fatal = trapFatalLoops(m);
  if (fatal.length !== EXPECTED_FATAL_LOOPS) {
    throw new Error(`expected ${EXPECTED_FATAL_LOOPS} fatal busy loops, found ${fatal.length}`);
  }
  const sleep = replaceSpinSleeps(m, exceptions.thrower!);
  const vstrGrowth = growStringsGeometrically(m);
  const hashTables = improveHashTables(m);
  const utf8Index = walkAsciiEightAtATime(m);
  const qstrFilter = filterInternedLookups(m);
  const mpzFormat = formatBigIntsOnHost(m);
  const mpzShortDivision = divideBySmallIntsShort(m);
  const jsonStrings = printJsonRunsAtOnce(m);
  const jsonStream = readJsonFromStringioDirectly(m);
  const strHash = hashStrLookupsFourBytesARound(m, hashFourBytesARound(m), qstrFilter.find, qstrFilter.lengthParam);
  const gcFunctions = findGcFunctions(m);
  const gcLayout = findGcLayout(m, gcFunctions);
  const gcAtbScan = skipFullAllocationTableBytes(m, gcLayout.gcAlloc);
  const gcMarkStack = enlargeMarkStack(m, gcLayout.overflow);
  const memoryName = binaryen.getExportInfo(m.getExport('memory')).value;
  const logicalMemory = useLogicalMemorySize(m, memoryName);
  const gc = enableMidRunGc(m, STACK_POINTER_NAME, MEMORY_BYTES_GLOBAL, gcMarkStack.sbrkStart.to - gcMarkStack.sbrkStart.from);
  if (!m.validate()) throw new Error(`${variant}: transformed module does not validate`);
  // -O3 with more inlining than binaryen's defaults: the input was compiled -Os, so small helpers the
  // interpreter calls on every operation were left out of line (measured: about 3% faster, +5% size).
  binaryen.setOptimizeLevel(3);
  binaryen.setShrinkLevel(0);
  binaryen.setFlexibleInlineMaxSize(60);
  binaryen.setOneCallerInlineMaxSize(100);
  m.optimize();
  // After the inlining, where the collector's inner loops sit in gc_collect_end; before the meter.
  const gcLoopUnroll = unrollCollectorLoops(m, [gcFunctions.gcCollectEnd]);
  if (!m.validate()) throw new Error(`${variant}: unrolled module does not validate`);
  // Metered after that optimization, so the meter counts (and charges) the code that runs, with the
  // helpers inlined; then optimized again, to fold the meter's arithmetic into the code around it.
  let metering = null;
  if (variant === 'metered') {
    ({ module: m, report: metering } = meterModule(m));
    if (!m.validate()) throw new Error(`${variant}: metered module does not validate`);
    m.optimize();
  }
  const bake = bakeInitialisedState(m, qstrFilter);
  checkJsonStreamSlot(m, jsonStream);
  const keep = variant === 'metered' ? RUNTIME_EXPORTS : RUNTIME_EXPORTS.filter((e) => e !== FUEL_GLOBAL_EXPORT);
  const stateGlobals = exportStateGlobals(m);
  const exportsRemoved = keepOnlyExports(m, [...keep, ...stateGlobals]).length;
  if (!m.validate()) throw new Error(`${variant}: baked module does not validate`);
  const emitted = m.emitBinary();
  m.dispose();
  // The meter's checks hinted unlikely, on the final code (binaryen's optimizations move them).
  const { bytes, hints: branchHints } = variant === 'metered' ? hintFuelChecks(emitted) : { bytes: emitted, hints: 0 };
  return {
    bytes,
    report: {
      sha256: sha256(bytes),
      bytes: bytes.length,
      invokesReplaced: exceptions.invokesReplaced.length,
      fatalLoopsTrapped: fatal.length,
      sleep,
      vstrGrowth,
      hashTables,
      qstrFilter,
      mpzFormat,
      mpzShortDivision,
      jsonStrings,
      jsonStream,
      strHash,
      utf8Index,
      gcAtbScan,
      gcMarkStack,
      gcLoopUnroll,
      logicalMemory,
      gc,
      metering,
      branchHints,
      bake,
      exportsRemoved,
      stateGlobals,
    },
  };
}

function build(): void {
  const hash = inputHash();
  const variants = Object.keys(MODULE_FILES) as ModuleVariant[];
  if (!process.argv.includes('--force') && existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const intact = variants.every((v) => {
      const file = join(outDir, MODULE_FILES[v]);
      return existsSync(file) && manifest.variants?.[v]?.sha256 === sha256(readFileSync(file));
    });
    if (manifest.inputHash === hash && intact) {
      console.log('pyfence: wasm/ is up to date');
      return;
    }
  }
  const input = readPinnedWasm();
  mkdirSync(outDir, { recursive: true });
  const manifest = { inputHash: hash, source: { sha256: PINNED_SHA256 }, variants: {} as Record<string, unknown> };
  for (const variant of variants) {
    const t0 = performance.now();
    const { bytes, report } = transform(input, variant);
    writeFileSync(join(outDir, MODULE_FILES[variant]), bytes);
    manifest.variants[variant] = report;
    const ms = Math.round(performance.now() - t0);
    console.log(`pyfence: built wasm/${MODULE_FILES[variant]} (${bytes.length} bytes, ${report.sha256.slice(0, 12)}) in ${ms} ms`);
  }
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
}

build();
