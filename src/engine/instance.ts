// One instance of the sandbox module: its exports, its memory, its host state. An instance is cheap
// (a fresh one per run is normal) and is thrown away after a trap, never repaired.
import { FUEL_GLOBAL_EXPORT, STATE_GLOBAL_PREFIX } from './abi.js';
import { SnapshotError, type InstanceState } from './snapshot.js';
import { FuelMeter } from './fuel.js';
import type { HostHooks } from './host.js';
import { buildImports, type ImportState } from './imports.js';
import { GuestMemory } from './memory-view.js';
import { FileTable } from './file-table.js';
import { VirtualFS } from '../vfs/vfs.js';

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

// The instance whose code is running. Imports are shared by all instances and act on this one.
// Every entry into a guest goes through EngineInstance.call, which sets and restores it, so nested
// entries (an import of one sandbox running another) stay correct.
let active: ImportState | null = null;
const sharedImports = buildImports(() => {
  if (!active) throw new Error('pyfence: a guest called the host outside EngineInstance.call');
  return active;
});

export class EngineInstance {
  readonly memory: GuestMemory;
  readonly fuel: FuelMeter;
  private readonly exports: GuestExports;
  private readonly state: ImportState;

  /** `files`: the sandbox's virtual filesystem; an empty one if not given. */
  constructor(module: WebAssembly.Module, hooks: HostHooks, vfs: VirtualFS = new VirtualFS()) {
    const instance = new WebAssembly.Instance(module, sharedImports);
    this.exports = instance.exports as unknown as GuestExports;
    const memory = new GuestMemory(this.exports.memory);
    const fuel = new FuelMeter((this.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global | undefined) ?? null);
    this.memory = memory;
    this.fuel = fuel;
    const exports = this.exports;
    this.state = {
      memory,
      meter: fuel,
      hooks,
      peakBytes: memory.byteLength,
      capRefusedGrowth: false,
      malloc: (size) => exports.malloc(size),
      files: new FileTable(vfs),
    };
  }

  /** Calls into the guest with this instance as the one the host imports act on. */
  call<R>(fn: (exports: GuestExports) => R): R {
    const previous = active;
    active = this.state;
    try {
      return fn(this.exports);
    } finally {
      active = previous;
    }
  }

  /** Closes the instance's open files (when it is discarded). */
  closeFiles(): void {
    this.state.files.closeAll();
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
  /** Whether the memory cap refused growth since the last resetMemoryPeak. */
  get memoryCapReached(): boolean {
    return this.state.capRefusedGrowth;
  }
  resetMemoryPeak(): void {
    this.state.peakBytes = this.memory.byteLength;
    this.state.capRefusedGrowth = false;
  }

  /** The whole state, between calls: a copy of memory and every exported mutable global. */
  captureState(): InstanceState {
    const globals: Record<string, number> = {};
    for (const [name, value] of Object.entries(this.exports)) {
      if (name.startsWith(STATE_GLOBAL_PREFIX) && value instanceof WebAssembly.Global) globals[name] = value.value as number;
    }
    return { memory: this.memory.bytes(0, this.memory.byteLength).slice(), globals };
  }

  /** Replaces this (fresh) instance's state with a captured one. */
  restoreState(state: InstanceState): void {
    const missing = (state.memory.length - this.memory.byteLength) / 65536;
    if (missing < 0 || !Number.isInteger(missing)) throw new SnapshotError('snapshot memory is smaller than a fresh instance');
    if (missing > 0 && !this.memory.grow(missing)) throw new SnapshotError('cannot grow memory to the snapshot size');
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
      const want = Math.max(size, 1024, this.scratchSize * 2);
      this.scratchPtr = this.call((e) => e.malloc(want));
      if (!this.scratchPtr) {
        this.scratchSize = 0;
        throw new Error('guest malloc failed');
      }
      this.scratchSize = want;
    }
    return this.scratchPtr;
  }

  /** Copies bytes into a fresh malloc'd block (NUL-terminated); the caller frees it. */
  allocBytes(bytes: Uint8Array): number {
    const ptr = this.call((e) => e.malloc(bytes.length + 1));
    if (!ptr) throw new Error('guest malloc failed');
    const view = this.memory.bytes(ptr, bytes.length + 1);
    view.set(bytes);
    view[bytes.length] = 0;
    return ptr;
  }

  free(ptr: number): void {
    this.call((e) => e.free(ptr));
  }
}
