// The standard library zip the engine serves: Pyodide's, with a .pyc made by the built CPython beside
// every module (compile_stdlib.py says why). Deterministic: the same module and zip give the same
// bytes (the interpreter runs with a fixed clock and random source, and the zip's dates are the
// sources'). Cached in the manifest by its inputs, like the module.
import { readFileSync } from 'node:fs';
import { seededRandomU32 } from '../../src/core/determinism.js';
import { STDLIB_GUEST_PATH } from '../../src/guests/cpython/abi.js';
import { CPythonFS } from '../../src/guests/cpython/stdlib-fs.js';
import { initHooks, initialisedInstance, runOrThrow } from '../../src/guests/cpython/template.js';
import { sha256 } from '../pinned.js';

const SCRIPT = new URL('./compile_stdlib.py', import.meta.url);
const OUT = '/stdlib.zip';
const COUNTS = '/counts.json';
const FIXED_TIME_MS = Date.UTC(2025, 0, 1);

/** What the compiled zip was made from: the module, Pyodide's zip and this step's sources. */
export function compiledStdlibInputs(moduleSha256: string, sourceZipSha256: string): string {
  return sha256([moduleSha256, sourceZipSha256, readFileSync(SCRIPT, 'utf8'), readFileSync(new URL(import.meta.url), 'utf8')].join('\0'));
}

export interface CompiledStdlib {
  zip: Uint8Array;
  compiled: number;
  /** Sources CPython cannot compile (kept as they are; importing them fails as it would anyway). */
  skipped: number;
  ms: number;
}

export function compileStdlib(moduleBytes: Uint8Array<ArrayBuffer>, sourceZip: Uint8Array): CompiledStdlib {
  const t0 = performance.now();
  const fs = new CPythonFS({}, sourceZip);
  const clock = { ticksMs: () => 0, timeMs: () => FIXED_TIME_MS };
  const inst = initialisedInstance(moduleBytes, fs, initHooks(clock, seededRandomU32(0)));
  try {
    const script = readFileSync(SCRIPT, 'utf8');
    const code = [
      'import json, types',
      "m = types.ModuleType('compile_stdlib')",
      `exec(compile(${JSON.stringify(script)}, 'compile_stdlib.py', 'exec'), m.__dict__)`,
      `counts = m.compile_stdlib(${JSON.stringify(STDLIB_GUEST_PATH)}, ${JSON.stringify(STDLIB_GUEST_PATH)}, ${JSON.stringify(OUT)})`,
      `open(${JSON.stringify(COUNTS)}, 'w').write(json.dumps(counts))`,
    ].join('\n');
    runOrThrow(inst, code, 'compiling the standard library');
  } finally {
    inst.fuel.end();
    inst.release();
  }
  const [compiled, skipped] = JSON.parse(new TextDecoder().decode(fs.readFile(COUNTS))) as [number, number];
  return { zip: fs.readFile(OUT), compiled, skipped, ms: Math.round(performance.now() - t0) };
}
