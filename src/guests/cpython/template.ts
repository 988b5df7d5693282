// CPython initialised once (by the build, else on first use in a process: about a second of work),
// then captured: every interpreter is a new instance with the pages the initialisation changed copied in.
import { readFileSync } from 'node:fs';
import { monotonicMs } from '../../core/clock.js';
import { sha256Hex } from '../../core/lazy-builtins.js';
import { systemClock, systemRandomU32, type Clock, type HostHooks } from '../../engine/host.js';
import { guardedCall } from '../../engine/stop.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import { WASM_PAGE_BYTES } from '../../engine/abi.js';
import { CPythonInstance, templateImagePolicy, type CPythonState, type StateHead } from './instance.js';
import { loadCPythonModule, readStdlib } from './module.js';
import { CPythonFS, type StdlibSource } from './stdlib-fs.js';
import { zeroFreeHeap } from './free-memory.js';
import type { LoadedState } from './state-file.js';
import { acquireMemory, releaseMemory, type PoolPolicy } from '../../engine/memory-pool.js';
import type { MemoryLimits } from './wasm-edit.js';
import { CPYTHON_STATE_PREFIX } from './abi.js';
import { fitCStackLimits, fitImageCStackLimits, readCStackLimits, type CStackLimits } from './stack-limits.js';

/** Granularity of the captured state: one OS page, so pages left zero stay unmapped in a new memory. */
const CHUNK_BYTES = 4096;

/**
 * The environment CPython starts with: its home (the stdlib zip is found on the default sys.path),
 * a fixed hash seed (the template is shared, so a per-process secret would buy nothing), no .pyc
 * writes. A sandbox's own environment replaces it after the restore (_pyfence.setup).
 */
const INIT_ENVIRON = ['PYTHONHOME=/', 'PYTHONHASHSEED=0', 'PYTHONDONTWRITEBYTECODE=1'];

/**
 * Modules imported into the template beyond what CPython's start and the runner import. Empty: as
 * python3, a program imports what it uses, from the build's .pyc (build/cpython/compile-stdlib.ts),
 * and each module imported here would be in every session's memory (the 30 imported before, and
 * asyncio, were 6.3 MiB of it).
 */
const PRELOAD: string[] = [];

/**
 * The guest-side Python, loaded in this order as modules of these names (the runner last: it takes
 * `requests` out of sys.modules until a network grant puts it back). Beside this file in src/ and in
 * dist/ (build/finish-dist.mjs copies them), read when first needed.
 */
const GUEST_MODULES = [
  ['_pyfence_bridge', '_pyfence_bridge.py'],
  ['_pyfence_requests_factory', '../../python-common/guest/requests.py'], // shared with MicroPython
  ['requests', '_pyfence_requests.py'],
  // Fits asyncio's loop when a program first imports it.
  ['_pyfence_asyncio', '_pyfence_asyncio.py'],
  ['_pyfence', '_pyfence.py'],
] as const;

let guestSources: [string, string][] | null = null;
function guestModules(): [string, string][] {
  return (guestSources ??= GUEST_MODULES.map(([name, file]) => [name, readFileSync(new URL(`./guest/${file}`, import.meta.url), 'utf8')]));
}

const initErrors: string[] = [];

/** Hooks while initialising: output goes nowhere (errors are kept for the message), no cap. */
export function initHooks(clock: Clock = systemClock, randomU32: () => number = systemRandomU32): HostHooks {
  return {
    stdout: () => {},
    stderr: (bytes) => void initErrors.push(new TextDecoder().decode(bytes)),
    clock,
    randomU32,
    memoryLimitBytes: 2 ** 31,
    sleep: () => {},
    hostCall: () => '',
  };
}

export interface Template {
  module: WebAssembly.Module;
  /** The stdlib zip, once a thread read it (templateStdlib); posted to workers with the template if so. */
  stdlib: Uint8Array | null;
  stdlibBytes: number;
  state: CPythonState;
  /** The state's whole memory, for overwriting a recycled memory. */
  image: Uint8Array;
  limits: MemoryLimits;
  /** Where CPython's C-stack limits are in memory, and their values in the state (stack-limits.ts). */
  cStack: CStackLimits;
  /** Where the state came from and how long that took (reported by the benchmark). */
  source: 'baked' | 'initialised';
  loadMs: number;
}

/**
 * The template as far as a process's first interpreter needs it: the baked state's head, and a new
 * memory the state was read into, which that interpreter takes. The image (a second copy of the
 * state's pages, for resets, snapshots and worker threads) is read only when first asked for: a
 * process that runs one interpreter and exits (the CLI) never maps it.
 */
type TemplateHead = Omit<Template, 'state' | 'image'> & {
  head: StateHead;
  /** The memory the baked state was read into, until the first interpreter takes it. */
  firstMemory: WebAssembly.Memory | null;
};

let template: Template | null = null;
let head: TemplateHead | null = null;

/** Runs Python source in an initialising interpreter; any failure is the initialisation's. */
export function runOrThrow(inst: CPythonInstance, code: string, what: string): void {
  const ptr = inst.allocString(code);
  let status = 0;
  const outcome = guardedCall(() => {
    status = inst.call((e) => e.PyRun_SimpleString(ptr));
  });
  if (outcome.kind !== 'returned' || status !== 0) {
    throw new Error(`pyfence: initialising CPython failed at ${what}: ${JSON.stringify(outcome)} ${initErrors.join('')}`);
  }
  inst.call((e) => e.free(ptr));
}

/** The state's format: its chunks are the whole non-zero memory, not a difference from the data. */
const STATE_FORMAT = 'full-image, free heap zeroed';

/**
 * What a baked state must have been made from: this module, this stdlib zip (zipimport keeps its
 * directory, offsets included, in the state), this guest-side Python and preload list.
 */
export function stateOrigin(moduleSha256: string, stdlibSha256: string): string {
  return sha256Hex([STATE_FORMAT, moduleSha256, stdlibSha256, ...guestModules().flat(), ...PRELOAD].join('\0'));
}

/**
 * A new interpreter of the module as built (it defines its memory and writes its data into it), its
 * constructors run and Py_InitializeEx done, over `vfs`; its fuel unlimited until `inst.fuel.end()`.
 */
export function initialisedInstance(moduleBytes: Uint8Array<ArrayBuffer>, vfs: VirtualFS, hooks: HostHooks = initHooks()): CPythonInstance {
  const inst = new CPythonInstance(new WebAssembly.Module(moduleBytes), hooks, vfs, INIT_ENVIRON);
  inst.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });
  const init = guardedCall(() =>
    inst.call((e) => {
      e.__wasm_call_ctors();
      e.Py_InitializeEx(0);
    }),
  );
  if (init.kind !== 'returned') throw new Error(`pyfence: initialising CPython failed: ${JSON.stringify(init)} ${initErrors.join('')}`);
  return inst;
}

/** Initialises CPython in a fresh instance (ctors, Py_InitializeEx, the guest modules, PRELOAD) and captures it. */
export function initialiseState(moduleBytes: Uint8Array<ArrayBuffer>, stdlib: Uint8Array, hooks: HostHooks = initHooks()): CPythonState {
  const inst = initialisedInstance(moduleBytes, new CPythonFS({}, stdlib), hooks);
  // Compiled as <pyfence>: the runner leaves frames of that name out of the program's tracebacks.
  const boot = [
    'def __pyfence_boot(modules, preload):',
    '    import sys, types',
    '    for name, src in modules:',
    '        m = types.ModuleType(name)',
    "        sys.modules[name] = m",
    "        exec(compile(src, '<pyfence>', 'exec'), m.__dict__)",
    '    for name in preload:',
    '        __import__(name)',
    `__pyfence_boot(${JSON.stringify(guestModules())}, ${JSON.stringify(PRELOAD)})`,
    'del __pyfence_boot',
  ].join('\n');
  runOrThrow(inst, boot, 'the runner');
  // Cycles left by the imports are freed before the free heap is zeroed.
  runOrThrow(inst, 'import gc; gc.collect(); del gc', 'collecting');
  zeroFreeHeap(inst);
  inst.fuel.end();
  const state = inst.captureState(CHUNK_BYTES);
  inst.release();
  return state;
}

/** The process's initialised CPython state: the build's baked one if it matches, else made now. */
export function cpythonTemplate(): Template {
  if (template) return template;
  const lazy = head;
  if (lazy) {
    // The head came from the baked state: its image is that file read again.
    const { sha256, stdlibSha256, readState } = loadCPythonModule();
    const again = readState(stateOrigin(sha256, stdlibSha256));
    if (!again) throw new Error('pyfence: wasm/cpython-state.bin changed while this process used it');
    fitImageCStackLimits(again.image, lazy.cStack);
    const { head: _head, firstMemory: _memory, ...parts } = lazy;
    template = { ...parts, state: again.state, image: again.image };
    return template;
  }
  const started = monotonicMs();
  const { builtBytes, module, limits, stdlibBytes, sha256, stdlibSha256, readState } = loadCPythonModule();
  const baked = readState(stateOrigin(sha256, stdlibSha256));
  const { state, image } = baked ?? imageOf(initialiseState(builtBytes(), readStdlib()));
  const cStack = readCStackLimits(image, state.globals[STACK_POINTER], state.chunks);
  fitImageCStackLimits(image, cStack);
  template = { module, stdlib: null, stdlibBytes, state, image, limits, cStack, source: baked ? 'baked' : 'initialised', loadMs: monotonicMs() - started };
  return template;
}

/**
 * What the next interpreter needs of the template: the complete one if this thread has it, else its
 * head, read from the baked state into the first interpreter's memory (without a baked state, the
 * complete template, initialised).
 */
function templateHead(): TemplateHead {
  if (head) return head;
  if (template) return (head = { ...template, head: headOf(template.state), firstMemory: null });
  const started = monotonicMs();
  const { module, limits, stdlibBytes, sha256, stdlibSha256, readState } = loadCPythonModule();
  let firstMemory: WebAssembly.Memory | null = null;
  const baked = readState(stateOrigin(sha256, stdlibSha256), (memoryBytes) => {
    const pages = Math.max(limits.initialPages, memoryBytes / WASM_PAGE_BYTES);
    firstMemory = new WebAssembly.Memory({ initial: pages, maximum: limits.maximumPages });
    return new Uint8Array(firstMemory.buffer, 0, memoryBytes);
  });
  if (!baked || !firstMemory) {
    cpythonTemplate(); // no baked state: initialised now, complete
    return templateHead();
  }
  const cStack = readCStackLimits(baked.image, baked.state.globals[STACK_POINTER], baked.state.chunks);
  fitImageCStackLimits(baked.image, cStack);
  head = { module, stdlib: null, stdlibBytes, limits, cStack, source: 'baked', loadMs: monotonicMs() - started, head: headOf(baked.state), firstMemory };
  return head;
}

const headOf = ({ memoryBytes, globals, zoneName }: StateHead): StateHead => ({ memoryBytes, globals, zoneName });

/**
 * The size of a fresh interpreter's memory (a sandbox's limits are checked against it): from the
 * baked state's header if nothing else of the template is loaded yet, so that a process whose
 * interpreters all run on worker threads reads no memory for one here.
 */
export function templateMemoryBytes(): number {
  if (template) return template.state.memoryBytes;
  if (head) return head.head.memoryBytes;
  const { sha256, stdlibSha256, readStateHead } = loadCPythonModule();
  return (readStateHead(stateOrigin(sha256, stdlibSha256)) ?? cpythonTemplate().state).memoryBytes;
}

/** A state's whole memory, in shared memory (posting the template to a worker copies none of it). */
function imageOf(loaded: CPythonState): LoadedState {
  const image = new Uint8Array(new SharedArrayBuffer(loaded.memoryBytes));
  for (const [at, chunk] of loaded.chunks) image.set(chunk, at);
  const chunks = loaded.chunks.map(([at, chunk]): [number, Uint8Array] => [at, image.subarray(at, at + chunk.length)]);
  return { state: { ...loaded, chunks }, image };
}

/**
 * Uses the template of another thread of this process (posted to a worker): its compiled module and
 * its shared state and stdlib, instead of loading and compiling them again. Read-only everywhere.
 */
export function adoptCPythonTemplate(shared: Template): void {
  template ??= shared;
}

/** The template's stdlib zip for an interpreter's filesystem: read when a guest first opens it. */
export function templateStdlib(): StdlibSource {
  const bytes = () => {
    const zip = template?.stdlib ?? head?.stdlib ?? readStdlib();
    if (template) template.stdlib = zip;
    if (head) head.stdlib = zip;
    return zip;
  };
  return { size: templateHead().stdlibBytes, bytes };
}

/** The module's first mutable global, exported by the build: the shadow stack pointer. */
const STACK_POINTER = `${CPYTHON_STATE_PREFIX}0`;

/**
 * Sets an interpreter's C-stack limits for the native stack of the thread it runs on: after every
 * restore (of the template or of a snapshot, which may come from another thread).
 */
export function fitInterpreterStack(inst: CPythonInstance): void {
  fitCStackLimits(inst.memory, templateHead().cStack);
}

/** A fresh interpreter in the template's state, over the session's filesystem. */
export function newCPythonInstance(hooks: HostHooks, vfs: VirtualFS): CPythonInstance {
  const t = templateHead();
  // The memory the baked state was read into, else a recycled one (reset to the image when given
  // back), which may come with its last instance: its globals are all the state restoreState does
  // not already have in the memory. Else a new one, which gets the state's chunks.
  const first = t.firstMemory;
  t.firstMemory = null;
  const { memory, recycled, instance } = first ? { memory: first, recycled: true, instance: null } : acquireMemory(t.module, t.limits);
  const inst = new CPythonInstance(instance ?? t.module, hooks, vfs, [], memory);
  inst.restoreState(recycled ? t.head : cpythonTemplate().state, recycled);
  fitInterpreterStack(inst);
  inst.onReleased = (m, used) => releaseMemory(t.module, m, (pool ??= imagePolicy()), used);
  return inst;
}

/** The reset to the template's image (which giving back the first memory reads in, if not yet). */
function imagePolicy(): PoolPolicy {
  const { image, state } = cpythonTemplate();
  return templateImagePolicy(image, state.chunks);
}

/** How this thread recycles its interpreters' memories (not in the template: that is posted to workers). */
let pool: PoolPolicy | null = null;

/** Non-zero bytes of the template's memory (what a new memory gets; a recycled one gets what differs). */
export function templateBytes(): number {
  return cpythonTemplate().state.chunks.reduce((n, [, b]) => n + b.length, 0);
}
