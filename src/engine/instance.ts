// One instance of the sandbox module: its exports, its memory, its host state. An instance is cheap
// (a fresh one per run is normal) and is thrown away after a trap, never repaired.
import { buildImports, type ImportState } from './imports.js';
import { FUEL_GLOBAL_EXPORT } from './abi.js';
import { FuelMeter } from './fuel.js';
import type { HostHooks } from './host.js';
import { GuestMemory } from './memory-view.js';

export interface GuestExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  mp_js_init(pystackWords: number, heapBytes: number): void;
  proxy_c_init(): void;
  mp_js_do_exec(src: number, len: number, out: number): void;
  mp_js_do_import(name: number, out: number): void;
  mp_sched_keyboard_interrupt(): void;
  [name: string]: unknown;
}

export class EngineInstance {
  readonly exports: GuestExports;
  readonly memory: GuestMemory;
  readonly fuel: FuelMeter;
  private readonly state: ImportState;

  constructor(module: WebAssembly.Module, hooks: HostHooks) {
    let memory: GuestMemory | undefined;
    let meter: FuelMeter | undefined;
    this.state = {
      memory: () => memory!,
      meter: () => meter!,
      hooks,
      peakBytes: 0,
    };
    const instance = new WebAssembly.Instance(module, buildImports(this.state));
    this.exports = instance.exports as unknown as GuestExports;
    memory = new GuestMemory(this.exports.memory);
    this.memory = memory;
    meter = new FuelMeter((this.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global | undefined) ?? null);
    this.fuel = meter;
    this.state.peakBytes = memory.byteLength;
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
  resetMemoryPeak(): void {
    this.state.peakBytes = this.memory.byteLength;
  }

  /** Copies bytes into a fresh malloc'd block (NUL-terminated); the caller frees it. */
  allocBytes(bytes: Uint8Array): number {
    const ptr = this.exports.malloc(bytes.length + 1);
    if (!ptr) throw new Error('guest malloc failed');
    const view = this.memory.bytes(ptr, bytes.length + 1);
    view.set(bytes);
    view[bytes.length] = 0;
    return ptr;
  }
}
