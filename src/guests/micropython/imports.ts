// Every import of the sandbox module, implemented by us. Nothing here touches globalThis; files are
// the sandbox's virtual filesystem (syscalls.ts), never the host's directly.
import { FUEL_EXHAUSTED_IMPORT, GC_MAY_GROW_IMPORT, HOST_IMPORT_MODULE, MPZ_FORMAT_IMPORT, SLEEP_MS_IMPORT, WASM_PAGE_BYTES as WASM_PAGE } from '../../engine/abi.js';
import type { FileTable } from '../../abi/emscripten/file-table.js';
import { HOST_REQUEST_MAX_BYTES, type HostHooks } from '../../engine/host.js';
import { jsBridge } from './js-bridge.js';
import { HOST_WORK_FUEL } from '../../engine/host-work.js';
import type { FuelMeter } from '../../engine/fuel.js';
import type { GuestMemory } from '../../engine/memory-view.js';
import { fileSyscalls } from '../../abi/emscripten/syscalls.js';
import { GuestAbort } from '../../engine/stop.js';
import { resizeHeap as growHeap } from '../../engine/heap-growth.js';
import { formatMpz } from './mpz-format.js';


export interface ImportState {
  memory: GuestMemory;
  meter: FuelMeter;
  hooks: HostHooks;
  /**
   * The memory size the guest sees (sbrk's heap size), which the cap applies to. A recycled memory may
   * be physically larger (src/engine/memory-pool.ts); growth past this asks the host all the same.
   */
  memoryBytes: { value: number };
  /** Highest logical memory size seen, in bytes. */
  peakBytes: number;
  /** The cap refused a growth request since the last resetMemoryPeak. */
  capRefusedGrowth: boolean;
  /** The guest's own malloc (for strings handed to it). */
  malloc(size: number): number;
  /** Its open files, over the sandbox's virtual filesystem. */
  files: FileTable;
}

type ImportFn = (...args: any[]) => number | bigint | void;

/** Grows linear memory, if needed, to hold `bytes`. */
function physicallyAtLeast(m: GuestMemory, bytes: number): boolean {
  return m.byteLength >= bytes || m.grow((bytes - m.byteLength) / WASM_PAGE);
}

/**
 * Builds the import object. `current` names the instance being called: import objects are shared by
 * all instances of a module (building ~60 closures per instance cost more than instantiating it).
 */
export function buildImports(current: () => ImportState): WebAssembly.Imports {
  const mem = () => current().memory;
  const files = fileSyscalls(current);

  const resizeHeap = (requested: number): number => {
    const state = current();
    // The guest sees the size the host keeps; a recycled memory may be physically larger already.
    const heap = {
      size: () => state.memoryBytes.value,
      growTo: (bytes: number) => physicallyAtLeast(state.memory, bytes) && ((state.memoryBytes.value = bytes), true),
    };
    return growHeap(state, heap, requested);
  };

  const env: Record<string, ImportFn> = {
    ...jsBridge({
      memory: mem,
      malloc: (size) => current().malloc(size),
      beforeRequest: (byteLength) => current().meter.charge(HOST_WORK_FUEL.channelByte * Math.min(byteLength, HOST_REQUEST_MAX_BYTES)),
      hostCall: (request) => current().hooks.hostCall(request),
      channelVisible: () => current().hooks.revealHostChannel === true,
    }),
    mp_js_ticks_ms: () => current().hooks.clock.ticksMs() >>> 0,
    mp_js_time_ms: () => current().hooks.clock.timeMs(),
    mp_js_random_u32: () => current().hooks.randomU32() | 0,
    emscripten_resize_heap: resizeHeap,
    _abort_js: () => {
      throw new GuestAbort();
    },
    ...files.env,
  };
  const wasi: Record<string, ImportFn> = files.wasi;

  // Imports added by our build transform (src/instrument/meter.ts's trusted mode, build/passes/{sleep,mid-run-gc,mpz-format}.ts).
  const host: Record<string, ImportFn> = {
    [FUEL_EXHAUSTED_IMPORT]: () => current().meter.exhausted(),
    [SLEEP_MS_IMPORT]: (ms: number) => current().hooks.sleep(ms >>> 0),
    [GC_MAY_GROW_IMPORT]: (bytes: number) => {
      const state = current();
      return state.memoryBytes.value + (bytes >>> 0) <= state.hooks.memoryLimitBytes ? 1 : 0;
    },
    [MPZ_FORMAT_IMPORT]: (mpz: number, base: number, prefix: number, baseChar: number, comma: number, str: number) =>
      formatMpz(current().memory, current().meter, mpz, base, prefix, baseChar, comma, str),
  };
  return { env, wasi_snapshot_preview1: wasi, [HOST_IMPORT_MODULE]: host } as WebAssembly.Imports;
}
