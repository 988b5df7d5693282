// Builds wasm/pyfence.wasm from the pinned MicroPython wasm. Deterministic, cached by input hash.
import binaryen from 'binaryen';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PINNED_SHA256, readPinnedWasm, sha256 } from './pinned.js';
import { rewriteLongjmpToNativeExceptions } from './passes/exceptions.js';
import { trapFatalLoops } from './passes/fatal-loops.js';
import { bakeInitialisedState } from './bake.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'wasm');
const outWasm = join(outDir, 'pyfence.wasm');
const outManifest = join(outDir, 'pyfence.json');
const EXPECTED_FATAL_LOOPS = 2; // nlr_jump_fail and __fatal_error

/** Everything the output depends on: the input wasm, this build's sources, binaryen's version. */
function inputHash(): string {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) sources.push(p.slice(root.length) + '\0' + readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, 'build'));
  walk(join(root, 'src', 'engine'));
  const binaryenVersion = JSON.parse(readFileSync(join(root, 'node_modules/binaryen/package.json'), 'utf8')).version;
  return sha256([PINNED_SHA256, binaryenVersion, ...sources].join('\0'));
}

function build(): void {
  const hash = inputHash();
  if (!process.argv.includes('--force') && existsSync(outWasm) && existsSync(outManifest)) {
    const manifest = JSON.parse(readFileSync(outManifest, 'utf8'));
    if (manifest.inputHash === hash && manifest.sha256 === sha256(readFileSync(outWasm))) {
      console.log(`pyfence: wasm/pyfence.wasm is up to date (${manifest.sha256.slice(0, 12)})`);
      return;
    }
  }
  const t0 = performance.now();
  const m = binaryen.readBinary(readPinnedWasm());
  const exceptions = rewriteLongjmpToNativeExceptions(m);
  const fatal = trapFatalLoops(m);
  if (fatal.length !== EXPECTED_FATAL_LOOPS) {
    throw new Error(`expected ${EXPECTED_FATAL_LOOPS} fatal busy loops, found ${fatal.length}`);
  }
  if (!m.validate()) throw new Error('transformed module does not validate');
  binaryen.setOptimizeLevel(2);
  binaryen.setShrinkLevel(0);
  m.optimize();
  const bake = bakeInitialisedState(m);
  if (!m.validate()) throw new Error('baked module does not validate');
  const bytes = m.emitBinary();
  m.dispose();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outWasm, bytes);
  const manifest = {
    inputHash: hash,
    sha256: sha256(bytes),
    bytes: bytes.length,
    source: { sha256: PINNED_SHA256 },
    exceptions,
    fatalLoopsTrapped: fatal.length,
    bake,
  };
  writeFileSync(outManifest, JSON.stringify(manifest, null, 2) + '\n');
  const ms = Math.round(performance.now() - t0);
  console.log(`pyfence: built wasm/pyfence.wasm (${bytes.length} bytes, ${manifest.sha256.slice(0, 12)}) in ${ms} ms`);
}

build();
