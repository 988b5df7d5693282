// Every import of the sandbox module, implemented by us. Nothing here touches globalThis; files are
// the sandbox's virtual filesystem (syscalls.ts), never the host's directly.
import { FUEL_EXHAUSTED_IMPORT, GC_MAY_GROW_IMPORT, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT } from './abi.js';
import type { FileTable } from './file-table.js';
import type { HostHooks } from './host.js';
import { jsBridge } from './js-bridge.js';
import type { FuelMeter } from './fuel.js';
import type { GuestMemory } from './memory-view.js';
import { fileSyscalls } from './syscalls.js';

const WASM_PAGE = 65536;

/** Thrown by `_abort_js`: the C code called abort(). The instance is broken afterwards. */
export class GuestAbort extends Error {
  constructor() {
    super('the interpreter called abort()');
  }
}

export interface ImportState {
  memory: GuestMemory;
  meter: FuelMeter;
  hooks: HostHooks;
  /** Highest linear-memory size seen, in bytes. */
  peakBytes: number;
  /** The cap refused a growth request since the last resetMemoryPeak. */
  capRefusedGrowth: boolean;
  /** The guest's own malloc (for strings handed to it). */
  malloc(size: number): number;
  /** Its open files, over the sandbox's virtual filesystem. */
  files: FileTable;
}

type ImportFn = (...args: any[]) => number | bigint | void;

/**
 * Builds the import object. `current` names the instance being called: import objects are shared by
 * all instances of a module (building ~60 closures per instance cost more than instantiating it).
 */
export function buildImports(current: () => ImportState): WebAssembly.Imports {
  const mem = () => current().memory;
  const files = fileSyscalls(current);

  const resizeHeap = (requested: number): number => {
    const state = current();
    const m = state.memory;
    requested >>>= 0;
    const limit = state.hooks.memoryLimitBytes;
    if (requested > limit) {
      state.capRefusedGrowth = true;
      return 0;
    }
    const old = m.byteLength;
    // Grow with some headroom (as Emscripten does) so that many small steps are not many grow calls.
    const target = Math.min(limit, Math.max(requested, Math.ceil(old * 1.25)));
    const pages = Math.ceil((target - old) / WASM_PAGE);
    if (!m.grow(pages)) {
      const minimal = Math.ceil((requested - old) / WASM_PAGE);
      if (!m.grow(minimal)) {
        state.capRefusedGrowth = true;
        return 0;
      }
    }
    if (m.byteLength > state.peakBytes) state.peakBytes = m.byteLength;
    return 1;
  };

  const env: Record<string, ImportFn> = {
    ...jsBridge({
      memory: mem,
      malloc: (size) => current().malloc(size),
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

  // Imports added by our build transform (see build/passes/metering.ts and sleep.ts).
  const host: Record<string, ImportFn> = {
    [FUEL_EXHAUSTED_IMPORT]: () => current().meter.exhausted(),
    [SLEEP_MS_IMPORT]: (ms: number) => current().hooks.sleep(ms >>> 0),
    [GC_MAY_GROW_IMPORT]: (bytes: number) => {
      const state = current();
      return state.memory.byteLength + (bytes >>> 0) <= state.hooks.memoryLimitBytes ? 1 : 0;
    },
  };
  return { env, wasi_snapshot_preview1: wasi, [HOST_IMPORT_MODULE]: host } as WebAssembly.Imports;
}
