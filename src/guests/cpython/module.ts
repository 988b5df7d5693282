// The CPython module (build/cpython/) and its standard library, loaded and compiled once per process.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CPYTHON_FILES } from './abi.js';
import { importMemoryWithoutData, type MemoryLimits } from './wasm-edit.js';

const WASM_DIR = new URL('../../../wasm/', import.meta.url);

export interface CPythonModule {
  /** The module as built (it defines its memory and data): what the build initialises. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The module the engine instantiates: memory imported, no data (wasm-edit.ts). */
  module: WebAssembly.Module;
  limits: MemoryLimits;
  /** sha256 of the module's bytes. */
  sha256: string;
  /** The standard library zip, shared read-only by every interpreter of the process. */
  stdlib: Uint8Array;
  stdlibSha256: string;
  /** The build's initialised state (state-file.ts), if it made one. */
  state: Uint8Array | null;
}

let loaded: CPythonModule | null = null;

/** A file's bytes, as read: viewed, not copied (tens of MiB a start-up otherwise). */
const view = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

function read(file: string): Uint8Array<ArrayBuffer> {
  const path = fileURLToPath(new URL(file, WASM_DIR));
  try {
    return view(readFileSync(path));
  } catch (e) {
    throw new Error(`pyfence: ${path} is missing; run \`npm run build\` (${(e as Error).message})`);
  }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function loadCPythonModule(): CPythonModule {
  if (loaded) return loaded;
  const manifest = JSON.parse(new TextDecoder().decode(read(CPYTHON_FILES.manifest)));
  const bytes = read(CPYTHON_FILES.module);
  const stdlib = read(CPYTHON_FILES.stdlib);
  const digest = sha256(bytes);
  const stdlibDigest = sha256(stdlib);
  if (manifest.module?.sha256 !== digest || manifest.stdlib?.sha256 !== stdlibDigest) {
    throw new Error(`pyfence: wasm/${CPYTHON_FILES.manifest} does not describe the CPython files; run \`npm run build\``);
  }
  let state: Uint8Array | null = null;
  try {
    state = view(readFileSync(fileURLToPath(new URL(CPYTHON_FILES.state, WASM_DIR))));
  } catch {
    // Not baked: the template initialises CPython on first use (template.ts).
  }
  const edited = importMemoryWithoutData(bytes);
  loaded = { bytes, module: new WebAssembly.Module(edited.bytes), limits: edited.limits, sha256: digest, stdlib, stdlibSha256: stdlibDigest, state };
  return loaded;
}
