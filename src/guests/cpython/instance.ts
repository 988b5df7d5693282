// One CPython interpreter: an instance of the module, its memory, its host state. Made from the
// process's initialised template (template.ts) by copying the pages that differ from a fresh
// instance; thrown away after a trap or a hard stop, never repaired.
import type { HostHooks } from '../../engine/host.js';
import { FileTable } from '../../abi/emscripten/file-table.js';
import { HOST_IMPORT_MODULE, MEMORY_IMPORT, WASM_PAGE_BYTES } from '../../engine/abi.js';
import type { PoolPolicy } from '../../engine/memory-pool.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import { CPYTHON_STATE_PREFIX, CPYTHON_TABLE_PREFIX } from './abi.js';
import { buildCPythonImports, type CPythonImportState } from './imports.js';
import { ActiveGuest } from '../../engine/guest-calls.js';
import { HostChannel } from './host-channel.js';
import { InterpreterInstance } from '../python-common/instance-base.js';

export interface CPythonExports {
  memory: WebAssembly.Memory;
  __indirect_function_table: WebAssembly.Table;
  __wasm_call_ctors(): void;
  Py_InitializeEx(initsigs: number): void;
  PyRun_SimpleString(code: number): number;
  PyErr_SetInterrupt(): void;
  PyImport_AddModule(name: number): number;
  PyObject_GetAttrString(obj: number, name: number): number;
  PyUnicode_AsUTF8AndSize(obj: number, size: number): number;
  Py_DecRef(obj: number): void;
  PyErr_Clear(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  [name: string]: unknown;
}

/** A state without its memory's contents: its size and what is outside memory. */
export interface StateHead {
  memoryBytes: number;
  globals: Record<string, number>;
  /** Where the libc keeps the time zone's name. */
  zoneName: number;
}

/** The state an instance is restored to: non-zero memory chunks, the memory size and the globals. */
export interface CPythonState extends StateHead {
  /** [offset, bytes] of every non-zero chunk of memory. */
  chunks: [number, Uint8Array][];
}

const active = new ActiveGuest<CPythonImportState>('CPythonInstance.call');
const sharedImports = new WeakMap<WebAssembly.Module, WebAssembly.Imports>();

/** One import object per module, with every import the module declares resolved (imports.ts). */
function importsFor(module: WebAssembly.Module): WebAssembly.Imports {
  let imports = sharedImports.get(module);
  if (!imports) {
    const lazy = buildCPythonImports(active.get);
    imports = {};
    for (const { module: ns, name, kind } of WebAssembly.Module.imports(module)) {
      if (kind === 'memory' && ns === HOST_IMPORT_MODULE && name === MEMORY_IMPORT) continue; // per instance
      if (kind !== 'function') throw new Error(`pyfence: unexpected ${kind} import ${ns}.${name}`);
      imports[ns] ??= {};
      (imports[ns] as Record<string, unknown>)[name] = (lazy[ns] as Record<string, unknown>)[name];
    }
    sharedImports.set(module, imports);
  }
  return imports;
}

export class CPythonInstance extends InterpreterInstance<CPythonExports, CPythonImportState> {
  /**
   * `memory`: for a module that imports its memory (src/guests/cpython/wasm-edit.ts). `module` may be
   * the instance a released interpreter left over that memory (then restoreState must follow).
   */
  constructor(module: WebAssembly.Module | WebAssembly.Instance, hooks: HostHooks, vfs: VirtualFS, environ: string[] = [], memory?: WebAssembly.Memory) {
    const imports = () => {
      const shared = importsFor(module as WebAssembly.Module);
      return memory ? { ...shared, [HOST_IMPORT_MODULE]: { ...shared[HOST_IMPORT_MODULE], [MEMORY_IMPORT]: memory } } : shared;
    };
    super(module, imports, active, ({ memory, meter, exports }) => ({
      memory,
      meter,
      hooks,
      files: new FileTable(vfs),
      environ,
      table: exports.__indirect_function_table,
      tableCache: [],
      peakBytes: memory.byteLength,
      capRefusedGrowth: false,
      malloc: (size) => exports.malloc(size),
      zoneName: { ptr: 0 },
      channel: new HostChannel(),
    }));
  }

  /** Drops the host channel's unread answer (between runs). */
  clearHostChannel(): void {
    this.state.channel.clear();
  }

  /** The whole state between calls: the memory's non-zero chunks, its size and the globals. */
  captureState(chunkBytes: number): CPythonState {
    const now = this.memory.bytes(0, this.memory.byteLength);
    const chunks: [number, Uint8Array][] = [];
    for (let at = 0; at < now.length; at += chunkBytes) {
      const end = Math.min(now.length, at + chunkBytes);
      if (!allZero(now, at, end)) chunks.push([at, now.slice(at, end)]);
    }
    return { memoryBytes: now.length, chunks, ...this.registers() };
  }

  /** The state outside memory, between calls: the module's mutable globals and the libc's zone name. */
  registers(): { globals: Record<string, number>; zoneName: number } {
    return { globals: this.prefixedGlobals(CPYTHON_STATE_PREFIX), zoneName: this.state.zoneName.ptr };
  }

  /**
   * Makes this fresh instance continue from `state`. A new memory is all zero: only the state's
   * chunks are written, and untouched pages stay unmapped. `memoryIsState`: the memory already holds
   * the state (a recycled one, reset to the template's image when it was given back, or the one the
   * template's state was read into): only the state's head is used.
   */
  restoreState(state: StateHead & Partial<CPythonState>, memoryIsState = false): void {
    const missing = (state.memoryBytes - this.memory.byteLength) / WASM_PAGE_BYTES;
    if (missing > 0 && !this.memory.grow(missing)) throw new Error('pyfence: cannot grow memory to the saved state');
    if (memoryIsState) {
      if (this.memory.byteLength !== state.memoryBytes) throw new Error('pyfence: a recycled memory must have the state\'s size');
    } else {
      if (!state.chunks) throw new Error('pyfence: restoring a new memory needs the state\'s chunks');
      for (const [at, bytes] of state.chunks) this.memory.bytes(at, bytes.length).set(bytes);
    }
    this.restorePrefixedGlobals(CPYTHON_STATE_PREFIX, state.globals);
    this.state.zoneName.ptr = state.zoneName;
    this.resetMemoryPeak();
  }
}

/** Blocks compared at once when overwriting a recycled memory: most of it is still the image. */
const COMPARE_BYTES = 64 * 1024;
/** Compared against the image's all-zero blocks: cache-resident, so only the memory is read. */
const ZERO_BLOCK = Buffer.alloc(COMPARE_BYTES);

/**
 * The pool's reset for CPython's memories (src/engine/memory-pool.ts): every byte of the last
 * interpreter replaced by the template's `image`, writing only the blocks that differ (a native
 * compare reads both, which is cheaper than rewriting 30 MiB when the interpreter changed a few MiB).
 * Every block of the memory is compared, whatever the guest may have left: nothing it wrote is
 * trusted to say where it wrote. Most of the image is zero (the stack and the heap above the
 * template's): those blocks are compared with one small zero block instead, which halves the memory
 * read for them. `chunks`: the image's non-zero parts (the state's), which say which blocks are zero
 * without reading the image (its zero pages stay unmapped).
 */
export function templateImagePolicy(image: Uint8Array, chunks: [number, Uint8Array][]): PoolPolicy {
  const blocks = imageBlocks(image, chunks);
  return {
    maxBytes: image.length,
    budgetBytes: 2 * image.length, // two idle memories per thread
    reset(memory) {
      if (memory.buffer.byteLength !== image.length) return false;
      overwriteDifferences(Buffer.from(memory.buffer), blocks);
      return true;
    },
    reusable: tablesUnchanged,
  };
}

/**
 * An instance's state is its memory, its mutable globals (all exported: restoreState sets them) and
 * its tables. The function table has no instruction that writes it and the host never does; the
 * others (Pyodide's externref tables, exported by the build) start empty: an instance is reused only
 * if they still are, so the next interpreter gets what a new instance would have.
 */
function tablesUnchanged(instance: WebAssembly.Instance): boolean {
  let tables = 0;
  for (const [name, value] of Object.entries(instance.exports)) {
    if (!name.startsWith(CPYTHON_TABLE_PREFIX)) continue;
    if (!(value instanceof WebAssembly.Table) || value.length !== 0) return false;
    tables++;
  }
  return tables > 0; // a module built before the tables were exported: never reused
}

/** The image cut in compare blocks, each either all zero (null) or its bytes. */
function imageBlocks(image: Uint8Array, chunks: [number, Uint8Array][]): (Buffer | null)[] {
  const blocks: (Buffer | null)[] = new Array(Math.ceil(image.length / COMPARE_BYTES)).fill(null);
  for (const [at, bytes] of chunks) {
    for (let i = Math.floor(at / COMPARE_BYTES); i * COMPARE_BYTES < at + bytes.length; i++) {
      const start = i * COMPARE_BYTES;
      blocks[i] ??= Buffer.from(image.buffer, image.byteOffset + start, Math.min(COMPARE_BYTES, image.length - start));
    }
  }
  return blocks;
}

function overwriteDifferences(target: Buffer, blocks: (Buffer | null)[]): void {
  for (let i = 0, at = 0; i < blocks.length; i++, at += COMPARE_BYTES) {
    const block = blocks[i];
    const length = Math.min(COMPARE_BYTES, target.length - at);
    if (target.compare(block ?? ZERO_BLOCK, 0, length, at, at + length) === 0) continue;
    if (block) target.set(block, at);
    else target.fill(0, at, at + length);
  }
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
