// Every import of the CPython module, implemented by pyfence (no Emscripten or Pyodide JS). Files go
// through the sandbox's VFS (src/abi/emscripten/syscalls.ts, errno translated), time and randomness through
// the session's hooks. Pyodide's JS FFI and everything else not listed answers "not available":
// syscalls with ENOSYS, other functions by stopping the run with kind `denied`.
import { FUEL_EXHAUSTED_IMPORT, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT, WASM_PAGE_BYTES } from '../../engine/abi.js';
import type { FileTable } from '../../abi/emscripten/file-table.js';
import type { FuelMeter } from '../../engine/fuel.js';
import type { HostHooks } from '../../engine/host.js';
import type { GuestMemory } from '../../engine/memory-view.js';
import { GuestAbort, HostStop } from '../../engine/stop.js';
import { fileSyscalls } from '../../abi/emscripten/syscalls.js';
import { resizeHeap as growHeap } from '../../engine/heap-growth.js';
import { toWasiErrno, VfsError, WasiErrno } from '../../vfs/errno.js';
import { withHostChannel, type HostChannel } from './host-channel.js';
import { timeImports } from './time-imports.js';

/** The guest called exit(): the run ends with this status (os._exit, a fatal error). */
export class GuestExit extends Error {
  constructor(readonly status: number) {
    super(`the interpreter exited with status ${status}`);
  }
}

export interface CPythonImportState {
  memory: GuestMemory;
  meter: FuelMeter;
  hooks: HostHooks;
  files: FileTable;
  /** `NAME=value` strings the libc's environ is built from (read once, while initialising). */
  environ: string[];
  table: WebAssembly.Table;
  /** Functions of `table` looked up so far (a table.get per C call through the trampoline is slow). */
  tableCache: (Function | undefined)[];
  peakBytes: number;
  capRefusedGrowth: boolean;
  malloc(size: number): number;
  /** Where the libc keeps the time zone's name (written by _tzset_js), for struct tm's tm_zone. */
  zoneName: { ptr: number };
  /** The host channel's unread answer (host-channel.ts). */
  channel: HostChannel;
}

type ImportFn = (...args: any[]) => unknown;

const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;
const S_IFCHR = 0o020000;
const FILETYPE = { chr: 2, dir: 3, file: 4 } as const;
/** struct pollfd { int fd; short events; short revents; } and its flags. */
const POLLFD_BYTES = 8;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLNVAL = 0x20;
/** Linux's RLIMIT_NOFILE default: a larger poll() is refused before any pollfd is read. */
const POLL_MAX_FDS = 1024;

const encoder = new TextEncoder();

/** Writes a NUL-terminated string, truncated to `max` bytes including the NUL. */
export function writeCString(m: GuestMemory, ptr: number, text: string, max = Infinity): number {
  const bytes = encoder.encode(text);
  const n = Math.max(0, Math.min(bytes.length, max - 1));
  const out = m.bytes(ptr, n + 1);
  out.set(bytes.subarray(0, n));
  out[n] = 0;
  return n;
}

/** The engine's syscalls answer Linux errno values; the guest's libc counts in WASI's. */
function translated(fns: Record<string, (...a: any[]) => number>, negative: boolean): Record<string, ImportFn> {
  const out: Record<string, ImportFn> = {};
  for (const [name, fn] of Object.entries(fns)) {
    out[name] = negative
      ? (...a: unknown[]) => {
          const r = fn(...a);
          return r < 0 ? -toWasiErrno(-r) : r;
        }
      : (...a: unknown[]) => {
          const r = fn(...a);
          return r > 0 ? toWasiErrno(r) : r;
        };
  }
  return out;
}

/** 0 if `fd` is open (the standard streams always are), else -EBADF. */
function checkFd(state: CPythonImportState, fd: number): number {
  if (fd >= 0 && fd <= 2) return 0;
  try {
    state.files.get(fd);
    return 0;
  } catch (e) {
    if (e instanceof VfsError) return -WasiErrno.EBADF;
    throw e;
  }
}

export function buildCPythonImports(current: () => CPythonImportState): WebAssembly.Imports {
  const mem = () => current().memory;
  const engineFiles = fileSyscalls(current);
  const files = translated(engineFiles.env, true);
  const wasiFiles = translated(engineFiles.wasi, false);

  const resizeHeap = (requested: number): number => {
    const state = current();
    const heap = {
      size: () => state.memory.byteLength,
      growTo: (bytes: number) => bytes <= state.memory.byteLength || state.memory.grow((bytes - state.memory.byteLength) / WASM_PAGE_BYTES),
    };
    return growHeap(state, heap, requested);
  };

  const fcntl = (fd: number, cmd: number): number => {
    const bad = checkFd(current(), fd);
    if (bad) return bad;
    return cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC ? -WasiErrno.ENOSYS : 0;
  };

  /** poll(2) over the guest's descriptors: files and the standard streams are always ready (there
   * are no sockets or pipes), so it waits only when nothing is asked of it, and then as a sleep
   * does (never past the deadline). asyncio's event loop waits for its next timer this way. */
  const poll = (fds: number, nfds: number, timeoutMs: number): number => {
    const state = current();
    if (nfds < 0 || nfds > POLL_MAX_FDS) return -WasiErrno.EINVAL;
    const m = state.memory;
    let ready = 0;
    for (let i = 0; i < nfds; i++) {
      const at = fds + POLLFD_BYTES * i;
      const fd = m.i32(at);
      const events = m.bytes(at + 4, 2);
      const asked = events[0] | (events[1] << 8);
      const revents = fd < 0 ? 0 : checkFd(state, fd) ? POLLNVAL : asked & (POLLIN | POLLOUT);
      m.bytes(at + 6, 2).set([revents & 0xff, revents >> 8]);
      if (revents) ready++;
    }
    if (ready === 0 && timeoutMs !== 0) state.hooks.sleep(timeoutMs < 0 ? Infinity : timeoutMs);
    return ready;
  };

  const env: Record<string, ImportFn> = {
    ...files,
    ...timeImports(current),
    __syscall_fstat64: (fd: number, buf: number) => {
      if (fd < 0 || fd > 2) return files.__syscall_fstat64(fd, buf);
      const m = mem();
      m.bytes(buf, 96).fill(0);
      m.setU32(buf + 4, S_IFCHR | 0o666);
      m.setU32(buf + 8, 1);
      return 0;
    },
    __syscall_fcntl64: fcntl,
    _try_fcntl64: fcntl,
    __syscall_ioctl: (fd: number) => checkFd(current(), fd) || -WasiErrno.ENOTTY,
    __syscall_faccessat: (_dirfd: number, path: number, mode: number) => {
      const state = current();
      try {
        const st = state.files.vfs.stat(state.memory.cString(path));
        return mode & 2 && !st.writable ? -WasiErrno.EACCES : 0;
      } catch (e) {
        if (e instanceof VfsError) return -toWasiErrno(e.errno);
        throw e;
      }
    },
    __syscall_readlinkat: (_dirfd: number, path: number) => {
      const state = current();
      try {
        state.files.vfs.stat(state.memory.cString(path));
        return -WasiErrno.EINVAL; // the VFS shows no symlinks
      } catch (e) {
        if (e instanceof VfsError) return -toWasiErrno(e.errno);
        throw e;
      }
    },
    // poll() asks Pyodide's JS for an asynchronous poll first; null means none, and the libc's
    // own poll (below) answers.
    _maybe_poll_async: () => null,
    __syscall_poll: poll,
    __syscall_getuid32_js: () => 0,
    __syscall_umask_js: () => 0o22,
    emscripten_resize_heap: resizeHeap,
    emscripten_get_heap_max: () => Math.min(current().hooks.memoryLimitBytes, 2 ** 31 - WASM_PAGE_BYTES),
    emscripten_runtime_keepalive_push: () => {},
    emscripten_runtime_keepalive_pop: () => {},
    _emscripten_runtime_keepalive_clear: () => {},
    _emscripten_get_progname: (buf: number, len: number) => void writeCString(mem(), buf, 'python', len),
    _Py_emscripten_runtime: () => {
      const state = current();
      const text = 'pyfence';
      const ptr = state.malloc(text.length + 1);
      if (ptr) writeCString(state.memory, ptr, text);
      return ptr;
    },
    _Py_CheckEmscriptenSignals_Helper: () => 0,
    // Calls a C function pointer with a possibly mismatched signature (what the glue does on Node 20).
    _PyEM_TrampolineCall_JS: (func: number, a1: number, a2: number, a3: number) => {
      const state = current();
      let f = state.tableCache[func];
      if (f === undefined) {
        f = func >>> 0 < state.table.length ? ((state.table.get(func) as Function | null) ?? undefined) : undefined;
        if (!f) throw new WebAssembly.RuntimeError(`call through an invalid function pointer ${func}`);
        state.tableCache[func] = f;
      }
      const result = f(a1, a2, a3);
      if (typeof result === 'bigint') throw new WebAssembly.RuntimeError('call through a function pointer of the wrong type');
      return result;
    },
    // Pyodide's string de-duplication for its JS FFI: nothing to de-duplicate here.
    __hiwire_deduplicate_new: () => null,
    // No dynamic libraries, no shell, no name service.
    _dlopen_js: () => 0,
    _dlsym_js: () => 0,
    _emscripten_system: () => -1,
    getaddrinfo: () => -2, // EAI_NONAME
    getnameinfo: () => -2,
    getprotobyname: () => 0,
    _emscripten_lookup_name: () => 0,
    _mmap_js: () => -WasiErrno.ENOSYS,
    _munmap_js: () => -WasiErrno.ENOSYS,
    _msync_js: () => -WasiErrno.ENOSYS,
    _setitimer_js: () => -WasiErrno.ENOSYS,
    _abort_js: () => {
      throw new GuestAbort();
    },
    __assert_fail: () => {
      throw new GuestAbort();
    },
    exit: (status: number) => {
      throw new GuestExit(status);
    },
  };

  const wasi: Record<string, ImportFn> = {
    ...wasiFiles,
    ...timeImports(current),
    proc_exit: (status: number) => {
      throw new GuestExit(status);
    },
    fd_seek: (fd: number, offset: bigint, whence: number, out: number) =>
      fd >= 0 && fd <= 2 ? WasiErrno.ESPIPE : wasiFiles.fd_seek(fd, offset, whence, out),
    fd_close: (fd: number) => (checkFd(current(), fd) ? WasiErrno.EBADF : wasiFiles.fd_close(fd)),
    fd_fdstat_get: (fd: number, out: number) => {
      const state = current();
      if (checkFd(state, fd)) return WasiErrno.EBADF;
      const m = state.memory;
      const kind = fd <= 2 ? 'chr' : state.files.get(fd).handle.kind;
      m.bytes(out, 24).fill(0);
      m.bytes(out, 1)[0] = FILETYPE[kind];
      // Every right: what a descriptor may do is decided per call by the VFS.
      m.bytes(out + 8, 16).fill(0xff);
      return 0;
    },
    environ_sizes_get: (countPtr: number, sizePtr: number) => {
      const { memory: m, environ } = current();
      m.setU32(countPtr, environ.length);
      m.setU32(sizePtr, environ.reduce((n, s) => n + encoder.encode(s).length + 1, 0));
      return 0;
    },
    environ_get: (ptrs: number, buf: number) => {
      const { memory: m, environ } = current();
      let at = buf;
      environ.forEach((s, i) => {
        m.setU32(ptrs + 4 * i, at);
        at += writeCString(m, at, s) + 1;
      });
      return 0;
    },
    random_get: (buf: number, len: number) => {
      const { memory: m, hooks } = current();
      const out = m.bytes(buf, len);
      for (let i = 0; i < len; i += 4) {
        const r = hooks.randomU32();
        for (let k = 0; k < 4 && i + k < len; k++) out[i + k] = (r >>> (8 * k)) & 0xff;
      }
      return 0;
    },
  };

  const host: Record<string, ImportFn> = {
    [FUEL_EXHAUSTED_IMPORT]: () => current().meter.exhausted(),
    // Every libc sleep (build/cpython/module-edits.ts); NaN or a negative length is no wait.
    [SLEEP_MS_IMPORT]: (ms: number) => current().hooks.sleep(ms > 0 ? ms : 0),
  };
  return {
    env: notAvailable(env, 'env', current),
    wasi_snapshot_preview1: notAvailable(withHostChannel(current, wasi), 'wasi', current),
    [HOST_IMPORT_MODULE]: host,
  };
}

/** Completes an import namespace for the module's actual imports (see `importsFor`). */
function notAvailable(impl: Record<string, ImportFn>, kind: 'env' | 'wasi', current: () => CPythonImportState): Record<string, ImportFn> {
  return new Proxy(impl, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      if (name in target) return target[name];
      if (kind === 'wasi') return () => WasiErrno.ENOSYS;
      if (name.startsWith('__syscall_')) return () => -WasiErrno.ENOSYS;
      return () => {
        const message = `the host function ${name} is not available in this sandbox`;
        current().hooks.refused?.('host-call', message);
        throw new HostStop('denied', message);
      };
    },
  });
}
