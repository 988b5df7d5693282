// One CPython interpreter: an instance of the module, its memory, its host state. Made from the
// process's initialised template (template.ts) by copying the pages that differ from a fresh
// instance; thrown away after a trap or a hard stop, never repaired.
import { FuelMeter } from '../../engine/fuel.js';
import type { HostHooks } from '../../engine/host.js';
import { FileTable } from '../../abi/emscripten/file-table.js';
import { GuestMemory } from '../../engine/memory-view.js';
import { FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE, MEMORY_IMPORT, WASM_PAGE_BYTES } from '../../engine/abi.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import { CPYTHON_STATE_PREFIX } from './abi.js';
import { buildCPythonImports, type CPythonImportState } from './imports.js';
import { ActiveGuest, GuestCalls } from '../../engine/guest-calls.js';
import { HostChannel } from './host-channel.js';

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

/** The state an instance is restored to: non-zero memory chunks, the memory size and the globals. */
export interface CPythonState {
  memoryBytes: number;
  /** [offset, bytes] of every non-zero chunk of memory. */
  chunks: [number, Uint8Array][];
  globals: Record<string, number>;
  /** Where the libc keeps the time zone's name. */
  zoneName: number;
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

export class CPythonInstance {
  readonly memory: GuestMemory;
  readonly fuel: FuelMeter;
  readonly exports: CPythonExports;
  private readonly state: CPythonImportState;
  /** Guest calls in progress on this instance, and its release. */
  private readonly calls = new GuestCalls(() => this.giveBackMemory());

  /** `memory`: for a module that imports its memory (src/guests/cpython/wasm-edit.ts). */
  constructor(module: WebAssembly.Module, hooks: HostHooks, vfs: VirtualFS, environ: string[] = [], memory?: WebAssembly.Memory) {
    const shared = importsFor(module);
    const imports = memory ? { ...shared, [HOST_IMPORT_MODULE]: { ...shared[HOST_IMPORT_MODULE], [MEMORY_IMPORT]: memory } } : shared;
    const instance = new WebAssembly.Instance(module, imports);
    this.exports = instance.exports as unknown as CPythonExports;
    this.memory = new GuestMemory(this.exports.memory);
    this.fuel = new FuelMeter((this.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global | undefined) ?? null);
    const exports = this.exports;
    this.state = {
      memory: this.memory,
      meter: this.fuel,
      hooks,
      files: new FileTable(vfs),
      environ,
      table: exports.__indirect_function_table,
      tableCache: [],
      peakBytes: this.memory.byteLength,
      capRefusedGrowth: false,
      malloc: (size) => exports.malloc(size),
      zoneName: { ptr: 0 },
      channel: new HostChannel(),
    };
  }

  /** Calls into the guest with this instance as the one the host imports act on. */
  call<R>(fn: (exports: CPythonExports) => R): R {
    return this.calls.enter(() => active.with(this.state, () => fn(this.exports)));
  }

  /** Called with the memory once the instance is released and no guest frame of it is left. */
  onReleased: ((memory: WebAssembly.Memory) => void) | null = null;

  /** Ends this instance: it never runs again. */
  release(): void {
    if (this.calls.released) return;
    this.state.files.closeAll();
    this.calls.release();
  }

  private giveBackMemory(): void {
    const memory = this.memory.detach();
    if (memory) this.onReleased?.(memory);
  }

  get hooks(): HostHooks {
    return this.state.hooks;
  }
  set hooks(hooks: HostHooks) {
    this.state.hooks = hooks;
  }
  /** Drops the host channel's unread answer (between runs). */
  clearHostChannel(): void {
    this.state.channel.clear();
  }
  get memoryBytes(): number {
    return this.memory.byteLength;
  }
  get memoryPeakBytes(): number {
    return this.state.peakBytes;
  }
  get memoryCapReached(): boolean {
    return this.state.capRefusedGrowth;
  }
  resetMemoryPeak(): void {
    this.state.peakBytes = this.memory.byteLength;
    this.state.capRefusedGrowth = false;
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
    const globals: Record<string, number> = {};
    for (const [name, value] of Object.entries(this.exports)) {
      if (name.startsWith(CPYTHON_STATE_PREFIX) && value instanceof WebAssembly.Global) globals[name] = value.value as number;
    }
    return { globals, zoneName: this.state.zoneName.ptr };
  }

  /**
   * Makes this fresh instance continue from `state`. `image`, the state's whole memory, is written
   * over a recycled memory (every byte of the last interpreter is replaced); a new memory is all
   * zero, so only the state's chunks are written and untouched pages stay unmapped.
   */
  restoreState(state: CPythonState, image: Uint8Array | null = null): void {
    const missing = (state.memoryBytes - this.memory.byteLength) / WASM_PAGE_BYTES;
    if (missing > 0 && !this.memory.grow(missing)) throw new Error('pyfence: cannot grow memory to the saved state');
    if (image) {
      if (this.memory.byteLength !== image.length) throw new Error('pyfence: a recycled memory must have the state\'s size');
      overwriteDifferences(this.memory.bytes(0, image.length), image);
    } else {
      for (const [at, bytes] of state.chunks) this.memory.bytes(at, bytes.length).set(bytes);
    }
    for (const [name, value] of Object.entries(state.globals)) (this.exports[name] as WebAssembly.Global).value = value;
    this.state.zoneName.ptr = state.zoneName;
    this.resetMemoryPeak();
  }

  /** Copies a string into a fresh malloc'd block (NUL-terminated); the caller frees it. */
  allocString(text: string): number {
    const bytes = new TextEncoder().encode(text);
    const ptr = this.call((e) => e.malloc(bytes.length + 1));
    if (!ptr) throw new Error('guest malloc failed');
    const view = this.memory.bytes(ptr, bytes.length + 1);
    view.set(bytes);
    view[bytes.length] = 0;
    return ptr;
  }
}

/** Blocks compared at once when overwriting a recycled memory: most of it is still the image. */
const COMPARE_BYTES = 64 * 1024;

/**
 * Makes `target` equal to `image`, writing only the blocks that differ (a native compare reads both,
 * which is cheaper than rewriting 30 MiB when the last interpreter changed a few MiB of it).
 */
function overwriteDifferences(target: Uint8Array, image: Uint8Array): void {
  const a = Buffer.from(target.buffer, target.byteOffset, target.length);
  const b = Buffer.from(image.buffer, image.byteOffset, image.length);
  for (let at = 0; at < image.length; at += COMPARE_BYTES) {
    const end = Math.min(image.length, at + COMPARE_BYTES);
    if (a.compare(b, at, end, at, end) !== 0) target.set(image.subarray(at, end), at);
  }
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
