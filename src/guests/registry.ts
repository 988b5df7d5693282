// The Python engines by name: everything that differs between them, behind one shape. Adding an
// engine is one folder exporting its Guest and one entry here (and one in preload.ts if its module
// can be compiled ahead); nothing else asks which engine it is.
import { UsageError } from '../core/errors.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { ModuleVariant } from '../engine/abi.js';
import type { SnapshotKey } from '../engine/snapshot.js';
import { CPYTHON_IMPORTS, MICROPYTHON_IMPORTS, type EngineImports } from '../capabilities/import-policy.js';
import { buildVfs, type Engine, type GuestSpec } from '../capabilities/resolved-options.js';
import { DEFAULT_FS_QUOTA, type VfsOptions } from '../vfs/vfs.js';
import type { Guest } from './guest.js';
import type { HostCallHandler } from './cpython/grants.js';
import { cpythonGuest } from './cpython/guest.js';
import { WORKER_STACK_MB as CPYTHON_WORKER_STACK_MB } from './cpython/stack-limits.js';
import { decodeSession } from './cpython/snapshot.js';
import { adoptCPythonTemplate, cpythonTemplate, templateMemoryBytes, type Template } from './cpython/template.js';
import { micropythonGuest } from './micropython/guest.js';
import { adoptSandboxModule, sharedSandboxModule, type LoadedModule } from './micropython/module.js';
import { readSnapshot } from './micropython/session-snapshot.js';
import { cpythonProgram, type ProgramSpec } from './python-common/program.js';

/** What a session of any engine is made from: the sandbox's resolved grants, on any thread. */
export interface GuestSetup {
  variant: ModuleVariant;
  /** JSON of the guest's setup (host modules, env, argv, network, denied imports), or null. */
  guestSpec: string | null;
  /** Modules the guest may not import (sorted). */
  denied: readonly string[];
  vfs: VfsOptions;
  /** Answers one host call; may block up to `budgetMs()`. Refusals go to `audit`. */
  hostCall: HostCallHandler;
}

/** Where a restored session must fit: the sandbox's memory and file quota. */
export interface RestoreBounds {
  limits: ResolvedLimits;
  vfs: VfsOptions;
}

export interface PythonEngine {
  readonly name: Engine;
  /** What the REPL banner and the servers' texts call it. */
  readonly label: string;
  /** Its import defaults (import-policy.ts). */
  readonly imports: EngineImports;
  /** The guest prints `sys.exit("msg")`'s message itself, as CPython's exit does (MicroPython's does not). */
  readonly printsExitMessage: boolean;
  /** A worker thread's native stack in MiB, where the thread's default is too small for the guest. */
  readonly workerStackMb?: number;
  /** Refuses what the engine cannot do, before any interpreter (or worker) is started. */
  check(limits: ResolvedLimits): void;
  /** Source that runs one REPL input as Python's interactive prompt does (the guest's own runner). */
  interactive(source: string): string;
  /** The run's program as the engine takes it (`filenameGiven`: the caller named the file). */
  program(spec: ProgramSpec, filenameGiven: boolean): ProgramSpec;
  /** The engine's guest for one session, on the calling thread. */
  guest(setup: GuestSetup): Guest;
  /** A snapshot's state, checked (and verified with `key`) before anything is loaded. */
  readSnapshot(bytes: Uint8Array, variant: ModuleVariant, bounds: RestoreBounds, key?: SnapshotKey): unknown;
  /** The compiled code a worker thread adopts instead of compiling it again. */
  shared(variant: ModuleVariant): unknown;
  adopt(variant: ModuleVariant, shared: unknown): void;
}

const micropython: PythonEngine = {
  name: 'micropython',
  label: 'MicroPython 1.27',
  imports: MICROPYTHON_IMPORTS,
  printsExitMessage: false,
  check() {},
  interactive: (source) => `__pyfence__.repl(${JSON.stringify(source)})`,
  program: (spec) => spec,
  guest: (setup) =>
    micropythonGuest(setup.variant, {
      spec: setup.guestSpec,
      denied: setup.denied,
      vfs: (restoredFiles) => buildVfs(setup.vfs, restoredFiles),
      hostCall: (request, guard, audit) => setup.hostCall(request, () => guard.waitBudgetMs(), audit),
    }) as Guest,
  readSnapshot: (bytes, variant, bounds, key) => readSnapshot(bytes, variant, bounds.limits.memoryBytes, key),
  shared: (variant) => sharedSandboxModule(variant),
  adopt: (variant, shared) => adoptSandboxModule(variant, shared as LoadedModule),
};

const cpython: PythonEngine = {
  name: 'cpython',
  label: 'CPython 3.14',
  imports: CPYTHON_IMPORTS,
  printsExitMessage: true,
  // Its C recursion needs a deeper native stack than a thread's default (guests/cpython/stack-limits.ts).
  workerStackMb: CPYTHON_WORKER_STACK_MB,
  check(limits) {
    const initialBytes = templateMemoryBytes();
    if (limits.memoryBytes < initialBytes) {
      throw new UsageError(`limits.memoryBytes must be at least ${initialBytes} with engine 'cpython' (its initial memory)`);
    }
  },
  interactive: (source) => `__import__('_pyfence').repl(${JSON.stringify(source)})`,
  program: cpythonProgram,
  guest(setup) {
    const spec = (setup.guestSpec ? JSON.parse(setup.guestSpec) : {}) as GuestSpec;
    // The runner's grants: host modules, network, import policy (src/guests/cpython/guest/_pyfence.py).
    const json = JSON.stringify({ modules: spec.modules ?? {}, net: spec.net ?? false, denied: setup.denied });
    return cpythonGuest({
      env: spec.env ?? {},
      argv: spec.argv ?? [],
      vfs: setup.vfs,
      grants: { json, denied: setup.denied, hostCall: setup.hostCall },
      unmetered: setup.variant === 'unmetered',
    }) as Guest;
  },
  readSnapshot: (bytes, _variant, bounds, key) =>
    decodeSession(bytes, { maxMemoryBytes: bounds.limits.memoryBytes, maxFileBytes: bounds.vfs.quota?.bytes ?? DEFAULT_FS_QUOTA.bytes }, key),
  shared: () => cpythonTemplate(),
  adopt: (_variant, shared) => adoptCPythonTemplate(shared as Template),
};

const ENGINES: Record<Engine, PythonEngine> = { micropython, cpython };

export function pythonEngine(name: Engine): PythonEngine {
  return ENGINES[name];
}
