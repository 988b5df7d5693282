// Every import of the sandbox module, implemented by us. Nothing here touches globalThis or the host's
// files: the file syscalls answer "no such file" until a virtual filesystem is attached.
import { FUEL_EXHAUSTED_IMPORT, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT } from './abi.js';
import { Errno } from './errno.js';
import type { HostHooks } from './host.js';
import { jsBridge } from './js-bridge.js';
import type { FuelMeter } from './fuel.js';
import type { GuestMemory } from './memory-view.js';

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
  /** The guest's own malloc (for strings handed to it). */
  malloc(size: number): number;
}

type ImportFn = (...args: any[]) => number | bigint | void;

/**
 * Builds the import object. `current` names the instance being called: import objects are shared by
 * all instances of a module (building ~60 closures per instance cost more than instantiating it).
 */
export function buildImports(current: () => ImportState): WebAssembly.Imports {
  const mem = () => current().memory;
  const noEntry = () => -Errno.ENOENT;
  const badFd = () => -Errno.EBADF;

  const fdWrite = (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
    const hooks = current().hooks;
    const sink = fd === 1 ? hooks.stdout : fd === 2 ? hooks.stderr : null;
    if (!sink) return Errno.EBADF;
    const m = mem();
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = m.u32(iovs + i * 8);
      const len = m.u32(iovs + i * 8 + 4);
      if (len) sink(m.bytes(ptr, len).slice());
      total += len;
    }
    m.setU32(nwritten, total);
    return 0;
  };

  const resizeHeap = (requested: number): number => {
    const state = current();
    const m = state.memory;
    requested >>>= 0;
    const limit = state.hooks.memoryLimitBytes;
    if (requested > limit) return 0;
    const old = m.byteLength;
    // Grow with some headroom (as Emscripten does) so that many small steps are not many grow calls.
    const target = Math.min(limit, Math.max(requested, Math.ceil(old * 1.25)));
    const pages = Math.ceil((target - old) / WASM_PAGE);
    if (!m.grow(pages)) {
      const minimal = Math.ceil((requested - old) / WASM_PAGE);
      if (!m.grow(minimal)) return 0;
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
    __syscall_chdir: noEntry,
    __syscall_getcwd: (buf: number, size: number) => {
      if (size < 2) return -Errno.ERANGE;
      mem().bytes(buf, 2).set([0x2f, 0]);
      return 2;
    },
    __syscall_mkdirat: noEntry,
    __syscall_openat: noEntry,
    __syscall_poll: () => 0,
    __syscall_getdents64: badFd,
    __syscall_renameat: noEntry,
    __syscall_rmdir: noEntry,
    __syscall_fstat64: badFd,
    __syscall_stat64: noEntry,
    __syscall_newfstatat: noEntry,
    __syscall_lstat64: noEntry,
    __syscall_statfs64: noEntry,
    __syscall_unlinkat: noEntry,
  };
  const wasi: Record<string, ImportFn> = {
    fd_write: fdWrite,
    fd_read: (_fd: number, _iovs: number, _n: number, nread: number) => {
      mem().setU32(nread, 0); // stdin is empty
      return 0;
    },
    fd_seek: () => Errno.ESPIPE,
    fd_close: () => 0,
    fd_sync: () => 0,
  };
  // Imports added by our build transform (see build/passes/metering.ts and sleep.ts).
  const host: Record<string, ImportFn> = {
    [FUEL_EXHAUSTED_IMPORT]: () => current().meter.exhausted(),
    [SLEEP_MS_IMPORT]: (ms: number) => current().hooks.sleep(ms >>> 0),
  };
  return { env, wasi_snapshot_preview1: wasi, [HOST_IMPORT_MODULE]: host } as WebAssembly.Imports;
}
