// What an instance of either interpreter is to the host: an instance of its module with its memory,
// fuel meter and import state; the one way into its code (`call`); its release, which gives the memory
// back for recycling once no guest frame of it is left; the run's hooks, memory peak and cap; its
// prefixed mutable globals; and host data copied into guest memory. MicroPython (logical memory,
// scratch buffer) and CPython (template restore, chunked state) add what is theirs.
import type { FileTable } from '../../abi/emscripten/file-table.js';
import { FUEL_GLOBAL_EXPORT } from '../../engine/abi.js';
import { FuelMeter } from '../../engine/fuel.js';
import { ActiveGuest, GuestCalls } from '../../engine/guest-calls.js';
import type { HostHooks } from '../../engine/host.js';
import { GuestMemory } from '../../engine/memory-view.js';
import { SnapshotError } from '../../engine/snapshot.js';

/** The guest's malloc refused a block the host needed in guest memory (the memory cap is reached). */
export class GuestMallocError extends Error {
  constructor(readonly size: number) {
    super(`guest malloc of ${size} bytes failed`);
    this.name = 'GuestMallocError';
  }
}

/** What the host imports of both interpreters act on. */
export interface InterpreterImportState {
  memory: GuestMemory;
  meter: FuelMeter;
  hooks: HostHooks;
  /** Highest memory size the guest saw since the last resetMemoryPeak, in bytes. */
  peakBytes: number;
  /** The cap refused a growth request since the last resetMemoryPeak. */
  capRefusedGrowth: boolean;
  /** The guest's own malloc (for strings handed to it). */
  malloc(size: number): number;
  /** Its open files, over the sandbox's virtual filesystem. */
  files: FileTable;
}

export interface InterpreterExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  [name: string]: unknown;
}

/** What a subclass's import state is made from. */
export interface InstanceParts<E> {
  memory: GuestMemory;
  meter: FuelMeter;
  exports: E;
}

export abstract class InterpreterInstance<E extends InterpreterExports, S extends InterpreterImportState> {
  readonly memory: GuestMemory;
  readonly fuel: FuelMeter;
  readonly exports: E;
  protected readonly state: S;
  /** Guest calls in progress on this instance (a host function may re-enter it), and its release. */
  private readonly calls = new GuestCalls(() => this.giveBackMemory());
  /** Called with the memory (and the wasm instance) once released and no guest frame of it is left. */
  onReleased: ((memory: WebAssembly.Memory, instance: WebAssembly.Instance) => void) | null = null;
  private readonly instance: WebAssembly.Instance;

  /**
   * `active`: the module's shared imports act on the state it holds (one per engine); `makeState`
   * makes this instance's import state from its memory, meter and exports. `module` may be an
   * instance a released interpreter left, whose state outside memory the subclass resets.
   */
  protected constructor(
    module: WebAssembly.Module | WebAssembly.Instance,
    imports: () => WebAssembly.Imports,
    private readonly active: ActiveGuest<S>,
    makeState: (parts: InstanceParts<E>) => S,
  ) {
    const instance = module instanceof WebAssembly.Instance ? module : new WebAssembly.Instance(module, imports());
    this.instance = instance;
    this.exports = instance.exports as unknown as E;
    this.memory = new GuestMemory(this.exports.memory);
    this.fuel = new FuelMeter((this.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global | undefined) ?? null);
    this.state = makeState({ memory: this.memory, meter: this.fuel, exports: this.exports });
  }

  /** Calls into the guest with this instance as the one the host imports act on. */
  call<R>(fn: (exports: E) => R): R {
    return this.calls.enter(() => this.active.with(this.state, () => fn(this.exports)));
  }

  /**
   * Ends this instance: it never runs again. Released from inside one of its own calls (a host
   * function disposing its sandbox), it finishes that call first: the memory is given back only once
   * no guest frame of it is left.
   */
  release(): void {
    if (this.calls.released) return;
    this.state.files.closeAll();
    this.calls.release();
  }

  private giveBackMemory(): void {
    const memory = this.memory.detach();
    if (memory) this.onReleased?.(memory, this.instance);
  }

  get hooks(): HostHooks {
    return this.state.hooks;
  }
  set hooks(hooks: HostHooks) {
    this.state.hooks = hooks;
  }
  /** The memory size the guest sees. */
  get memoryBytes(): number {
    return this.memory.byteLength;
  }
  get memoryPeakBytes(): number {
    return this.state.peakBytes;
  }
  /** Whether the memory cap refused growth since the last resetMemoryPeak. */
  get memoryCapReached(): boolean {
    return this.state.capRefusedGrowth;
  }
  resetMemoryPeak(): void {
    this.state.peakBytes = this.memoryBytes;
    this.state.capRefusedGrowth = false;
  }
  /** Files the guest holds open: their descriptors live in this instance, not in its memory. */
  get openFiles(): number {
    return this.state.files.openCount;
  }

  /** The values of the module's exported mutable globals named `prefix...`: its state outside memory. */
  protected prefixedGlobals(prefix: string): Record<string, number> {
    const globals: Record<string, number> = {};
    for (const [name, value] of Object.entries(this.exports)) {
      if (name.startsWith(prefix) && value instanceof WebAssembly.Global) globals[name] = value.value as number;
    }
    return globals;
  }

  /** Sets such globals from a captured state; any other name or value is refused (a snapshot may be forged). */
  protected restorePrefixedGlobals(prefix: string, globals: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(globals)) {
      const g = this.exports[name];
      if (!name.startsWith(prefix) || !(g instanceof WebAssembly.Global) || typeof value !== 'number') {
        throw new SnapshotError(`snapshot global ${name} does not belong to this module`);
      }
      g.value = value;
    }
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

  /** A string as allocBytes copies bytes (UTF-8). */
  allocString(text: string): number {
    return this.allocBytes(encoder.encode(text));
  }

  free(ptr: number): void {
    this.call((e) => e.free(ptr));
  }
}

const encoder = new TextEncoder();
