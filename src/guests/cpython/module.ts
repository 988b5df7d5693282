// The CPython module (build/cpython/) and its standard library, loaded and compiled once per process.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CPYTHON_FILES } from './abi.js';
import { importMemoryWithoutData, type MemoryLimits } from './wasm-edit.js';
import { withFileSource, type ByteSource } from './byte-source.js';
import { loadState, loadStateHead, type LoadedState } from './state-file.js';
import type { StateHead } from './instance.js';
import { capWasmCompileThreads } from '../../engine/wasm-compile-threads.js';

const WASM_DIR = new URL('../../../wasm/', import.meta.url);

export interface CPythonModule {
  /** The module as built (it defines its memory and data): what initialising needs, read when asked. */
  builtBytes(): Uint8Array<ArrayBuffer>;
  /** The module the engine instantiates: memory imported, no data (wasm-edit.ts). */
  module: WebAssembly.Module;
  limits: MemoryLimits;
  /** sha256 of the module's bytes (the build's, in the manifest). */
  sha256: string;
  /** The standard library zip's size; its bytes come from readStdlib, when first needed. */
  stdlibBytes: number;
  stdlibSha256: string;
  /** The build's initialised state (state-file.ts) made from `origin`, read into its image; null if none. */
  readState(origin: string, allocate?: (memoryBytes: number) => Uint8Array): LoadedState | null;
  /** The baked state's head only (its memory's size, its globals), if it was made from `origin`. */
  readStateHead(origin: string): StateHead | null;
}

let loaded: CPythonModule | null = null;

/** A file's bytes, as read: viewed, not copied (tens of MiB a start-up otherwise). */
const view = (b: Buffer) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

const pathOf = (file: string) => fileURLToPath(new URL(file, WASM_DIR));
const missing = (path: string, e: unknown) => new Error(`pyfence: ${path} is missing; run \`npm run build\` (${(e as Error).message})`);

function read(file: string): Uint8Array<ArrayBuffer> {
  const path = pathOf(file);
  try {
    return view(readFileSync(path));
  } catch (e) {
    throw missing(path, e);
  }
}

/** A file read straight into shared memory: posted to worker threads, it is not copied again. */
function readShared(file: string): Uint8Array {
  const path = pathOf(file);
  try {
    return withFileSource(path, (source) => {
      const bytes = new Uint8Array(new SharedArrayBuffer(source.size));
      source.read(bytes, 0, 0, source.size);
      return bytes;
    });
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code ? missing(path, e) : e;
  }
}

/**
 * The module, compiled, and readers of the baked state. The files are the manifest's if they have
 * their sizes: the build hashed them when it wrote them together, and hashing 26 MB again cost every
 * process tens of milliseconds. What this check is for,
 * a stale or mixed wasm/, has other sizes in practice.
 */
export function loadCPythonModule(): CPythonModule {
  if (loaded) return loaded;
  const manifest = JSON.parse(new TextDecoder().decode(read(CPYTHON_FILES.manifest)));
  const modulePath = pathOf(CPYTHON_FILES.module);
  let edited: ReturnType<typeof importMemoryWithoutData>;
  try {
    edited = withFileSource(modulePath, (source) => {
      if (manifest.module?.bytes !== source.size || typeof manifest.stdlib?.bytes !== 'number') throw stale();
      return importMemoryWithoutData(source);
    });
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code ? missing(modulePath, e) : e;
  }
  capWasmCompileThreads(); // before the compile: V8's tier-up of CPython's hot functions starts with its first run
  loaded = {
    builtBytes: () => read(CPYTHON_FILES.module),
    module: new WebAssembly.Module(edited.bytes),
    limits: edited.limits,
    sha256: manifest.module.sha256,
    stdlibBytes: manifest.stdlib.bytes,
    stdlibSha256: manifest.stdlib.sha256,
    readState: (origin, allocate) => readStateFile((source) => loadState(source, origin, allocate)),
    readStateHead: (origin) => readStateFile((source) => loadStateHead(source, origin)),
  };
  return loaded;
}

/** `read` over the baked state's file; null if there is none (the template then initialises CPython). */
function readStateFile<T>(parse: (source: ByteSource) => T | null): T | null {
  try {
    return withFileSource(pathOf(CPYTHON_FILES.state), parse);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

let stdlib: Uint8Array | null = null;

/** The standard library zip, in shared memory (read-only for every interpreter), read once per thread. */
export function readStdlib(): Uint8Array {
  if (stdlib) return stdlib;
  const bytes = readShared(CPYTHON_FILES.stdlib);
  if (bytes.length !== loadCPythonModule().stdlibBytes) throw stale();
  return (stdlib = bytes);
}

const stale = () => new Error(`pyfence: wasm/${CPYTHON_FILES.manifest} does not describe the CPython files; run \`npm run build\``);
