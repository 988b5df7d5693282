// One instance of the sandbox module: its exports, its memory, its host state. An instance is cheap
// (a fresh one per run is normal) and is thrown away after a trap, never repaired.
import { FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE, MEMORY_BYTES_EXPORT, MEMORY_IMPORT, STATE_GLOBAL_PREFIX, WASM_PAGE_BYTES } from '../../engine/abi.js';
import { acquireMemory, importedMemoryShape, releaseMemory } from '../../engine/memory-pool.js';
import { SnapshotError, type InstanceState } from '../../engine/snapshot.js';
import { FuelMeter } from '../../engine/fuel.js';
import type { HostHooks } from '../../engine/host.js';
import { buildImports, type ImportState } from './imports.js';
import { GuestMemory } from '../../engine/memory-view.js';
import { FileTable } from '../../abi/emscripten/file-table.js';
import { ActiveGuest, GuestCalls } from '../../engine/guest-calls.js';
import { VirtualFS } from '../../vfs/vfs.js';

/** The guest's malloc refused a block the host needed in guest memory (the memory cap is reached). */
export class GuestMallocError extends Error {
  constructor(readonly size: number) {
    super(`guest malloc of ${size} bytes failed`);
    this.name = 'GuestMallocError';
  }
}

export interface GuestExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  mp_js_do_exec(src: number, len: number, out: number): void;
  mp_js_do_exec_async(src: number, len: number, out: number): void;
  mp_sched_keyboard_interrupt(): void;
  /** Present only before baking (build/bake.ts). */
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  mp_js_init(pystackWords: number, heapBytes: number): void;
  proxy_c_init(): void;
  [name: string]: unknown;
}

// Imports are shared by all instances and act on the one whose code is running: every entry into a
// guest goes through EngineInstance.call.
const active = new ActiveGuest<ImportState>('EngineInstance.call');
const sharedImports = buildImports(active.get);

export class EngineInstance {
  readonly memory: GuestMemory;
  readonly fuel: FuelMeter;
  private readonly exports: GuestExports;
  private readonly state: ImportState;
  /** Set when the memory is recycled (src/engine/memory-pool.ts), so it can be given back. */
  private readonly recycle: ((memory: WebAssembly.Memory) => void) | null;
  /** Guest calls in progress on this instance (a host function may re-enter it), and its release. */
  private readonly calls = new GuestCalls(() => this.giveBackMemory());

  /** `files`: the sandbox's virtual filesystem; an empty one if not given. */
  constructor(module: WebAssembly.Module, hooks: HostHooks, vfs: VirtualFS = new VirtualFS()) {
    const shape = importedMemoryShape(module);
    let imports = sharedImports;
    this.recycle = null;
    if (shape) {
      const memory = acquireMemory(module, shape);
      imports = { ...sharedImports, [HOST_IMPORT_MODULE]: { ...sharedImports[HOST_IMPORT_MODULE], [MEMORY_IMPORT]: memory } };
      this.recycle = (m) => releaseMemory(module, m);
    }
    const instance = new WebAssembly.Instance(module, imports);
    this.exports = instance.exports as unknown as GuestExports;
    const memory = new GuestMemory(this.exports.memory);
    const fuel = new FuelMeter((this.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global | undefined) ?? null);
    this.memory = memory;
    this.fuel = fuel;
    const exports = this.exports;
    // Builds before the logical size existed had none: their guest saw the physical size.
    const logical = (exports[MEMORY_BYTES_EXPORT] as WebAssembly.Global | undefined) ?? {
      get value() {
        return memory.byteLength;
      },
      set value(_: number) {},
    };
    this.state = {
      memory,
      meter: fuel,
      hooks,
      memoryBytes: logical,
      peakBytes: logical.value,
      capRefusedGrowth: false,
      malloc: (size) => exports.malloc(size),
      files: new FileTable(vfs),
    };
  }

  /** Calls into the guest with this instance as the one the host imports act on. */
  call<R>(fn: (exports: GuestExports) => R): R {
    return this.calls.enter(() => active.with(this.state, () => fn(this.exports)));
  }

  /**
   * Ends this instance: it never runs again, and its memory, zeroed, may serve a later instance.
   * Released from inside one of its own calls (a host function disposing its sandbox), it finishes
   * that call first: the memory is given back only once no guest frame of it is left.
   */
  release(): void {
    if (this.calls.released) return;
    this.state.files.closeAll();
    this.calls.release();
  }

  private giveBackMemory(): void {
    const memory = this.memory.detach();
    if (memory && this.recycle) this.recycle(memory);
  }

  /** Reads an exported global (used by the build to capture state). */
  exportedGlobal(name: string): WebAssembly.Global | undefined {
    return this.exports[name] as WebAssembly.Global | undefined;
  }

  get hooks(): HostHooks {
    return this.state.hooks;
  }
  set hooks(hooks: HostHooks) {
    this.state.hooks = hooks;
  }
  get memoryPeakBytes(): number {
    return this.state.peakBytes;
  }
  /** The memory size the guest sees; the physical memory may be larger (a recycled one). */
  get memoryBytes(): number {
    return this.state.memoryBytes.value;
  }
  /** Whether the memory cap refused growth since the last resetMemoryPeak. */
  get memoryCapReached(): boolean {
    return this.state.capRefusedGrowth;
  }
  resetMemoryPeak(): void {
    this.state.peakBytes = this.memoryBytes;
    this.state.capRefusedGrowth = false;
  }

  /** The whole state, between calls: a copy of memory and every exported mutable global. */
  captureState(): InstanceState {
    const globals: Record<string, number> = {};
    for (const [name, value] of Object.entries(this.exports)) {
      if (name.startsWith(STATE_GLOBAL_PREFIX) && value instanceof WebAssembly.Global) globals[name] = value.value as number;
    }
    return { memory: this.memory.bytes(0, this.memoryBytes).slice(), globals };
  }

  /** Replaces this (fresh) instance's state with a captured one. */
  restoreState(state: InstanceState): void {
    const missing = (state.memory.length - this.memoryBytes) / WASM_PAGE_BYTES;
    if (missing < 0 || !Number.isInteger(missing)) throw new SnapshotError('snapshot memory is smaller than a fresh instance');
    const physicalMissing = Math.max(0, (state.memory.length - this.memory.byteLength) / WASM_PAGE_BYTES);
    if (physicalMissing > 0 && !this.memory.grow(physicalMissing)) throw new SnapshotError('cannot grow memory to the snapshot size');
    this.state.memoryBytes.value = state.memory.length;
    for (const [name, value] of Object.entries(state.globals)) {
      const g = this.exports[name];
      if (!name.startsWith(STATE_GLOBAL_PREFIX) || !(g instanceof WebAssembly.Global) || typeof value !== 'number') {
        throw new SnapshotError(`snapshot global ${name} does not belong to this module`);
      }
      g.value = value;
    }
    this.memory.bytes(0, state.memory.length).set(state.memory);
    this.resetMemoryPeak();
  }

  private scratchPtr = 0;
  private scratchSize = 0;

  /**
   * A guest buffer of at least `size` bytes owned by this instance, reused from call to call (one
   * malloc per instance rather than per call). Valid until the next `scratch` call.
   */
  scratch(size: number): number {
    if (size > this.scratchSize) {
      if (this.scratchPtr) this.free(this.scratchPtr);
      let want = Math.max(size, 1024, this.scratchSize * 2);
      this.scratchPtr = this.call((e) => e.malloc(want));
      if (!this.scratchPtr && want > size) this.scratchPtr = this.call((e) => e.malloc((want = size)));
      if (!this.scratchPtr) {
        this.scratchSize = 0;
        throw new GuestMallocError(size);
      }
      this.scratchSize = want;
    }
    return this.scratchPtr;
  }

  /** Copies bytes into a fresh malloc'd block (NUL-terminated); the caller frees it. */
  allocBytes(bytes: Uint8Array): number {
    const ptr = this.call((e) => e.malloc(bytes.length + 1));
    if (!ptr) throw new GuestMallocError(bytes.length + 1);
    const view = this.memory.bytes(ptr, bytes.length + 1);
    view.set(bytes);
    view[bytes.length] = 0;
    return ptr;
  }

  free(ptr: number): void {
    this.call((e) => e.free(ptr));
  }
}
