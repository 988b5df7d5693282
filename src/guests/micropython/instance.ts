// One instance of the sandbox module: its exports, its memory, its host state. An instance is cheap
// (a fresh one per run is normal) and is thrown away after a trap, never repaired.
import { HOST_IMPORT_MODULE, MEMORY_BYTES_EXPORT, MEMORY_IMPORT, STATE_GLOBAL_PREFIX, WASM_PAGE_BYTES } from '../../engine/abi.js';
import { acquireMemory, importedMemoryShape, releaseMemory, ZEROED } from '../../engine/memory-pool.js';
import { SnapshotError, type InstanceState } from '../../engine/snapshot.js';
import type { HostHooks } from '../../engine/host.js';
import { buildImports, type ImportState } from './imports.js';
import { FileTable } from '../../abi/emscripten/file-table.js';
import { ActiveGuest } from '../../engine/guest-calls.js';
import { VirtualFS } from '../../vfs/vfs.js';
import { GuestMallocError, InterpreterInstance } from '../python-common/instance-base.js';

export { GuestMallocError };

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

/** The shared imports, with a recycled memory for a module that imports its memory (memory-pool.ts). */
function importsWithMemory(module: WebAssembly.Module): { imports: WebAssembly.Imports; pooled: boolean } {
  const shape = importedMemoryShape(module);
  if (!shape) return { imports: sharedImports, pooled: false };
  const { memory } = acquireMemory(module, shape);
  return { imports: { ...sharedImports, [HOST_IMPORT_MODULE]: { ...sharedImports[HOST_IMPORT_MODULE], [MEMORY_IMPORT]: memory } }, pooled: true };
}

export class EngineInstance extends InterpreterInstance<GuestExports, ImportState> {
  /** `files`: the sandbox's virtual filesystem; an empty one if not given. */
  constructor(module: WebAssembly.Module, hooks: HostHooks, vfs: VirtualFS = new VirtualFS()) {
    const { imports, pooled } = importsWithMemory(module);
    super(module, () => imports, active, ({ memory, meter, exports }) => {
      // Builds before the logical size existed had none: their guest saw the physical size.
      const logical = (exports[MEMORY_BYTES_EXPORT] as WebAssembly.Global | undefined) ?? {
        get value() {
          return memory.byteLength;
        },
        set value(_: number) {},
      };
      return { memory, meter, hooks, memoryBytes: logical, peakBytes: logical.value, capRefusedGrowth: false, malloc: (size) => exports.malloc(size), files: new FileTable(vfs) };
    });
    // Its memory, zeroed, may serve a later instance of the module.
    if (pooled) this.onReleased = (m) => releaseMemory(module, m, ZEROED);
  }

  /** Reads an exported global (used by the build to capture state). */
  exportedGlobal(name: string): WebAssembly.Global | undefined {
    return this.exports[name] as WebAssembly.Global | undefined;
  }

  /** The memory size the guest sees; the physical memory may be larger (a recycled one). */
  override get memoryBytes(): number {
    return this.state.memoryBytes.value;
  }

  /** The whole state, between calls: a copy of memory and every exported mutable global. */
  captureState(): InstanceState {
    return { memory: this.memory.bytes(0, this.memoryBytes).slice(), globals: this.prefixedGlobals(STATE_GLOBAL_PREFIX) };
  }

  /** Replaces this (fresh) instance's state with a captured one. */
  restoreState(state: InstanceState): void {
    const missing = (state.memory.length - this.memoryBytes) / WASM_PAGE_BYTES;
    if (missing < 0 || !Number.isInteger(missing)) throw new SnapshotError('snapshot memory is smaller than a fresh instance');
    const physicalMissing = Math.max(0, (state.memory.length - this.memory.byteLength) / WASM_PAGE_BYTES);
    if (physicalMissing > 0 && !this.memory.grow(physicalMissing)) throw new SnapshotError('cannot grow memory to the snapshot size');
    this.state.memoryBytes.value = state.memory.length;
    this.restorePrefixedGlobals(STATE_GLOBAL_PREFIX, state.globals);
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
}
