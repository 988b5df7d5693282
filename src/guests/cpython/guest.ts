// CPython as a guest of the one Session (src/session/session.ts): one interpreter made from the
// template, set up by its runner (`_pyfence`), soft-stopped by PyErr_SetInterrupt; a hard stop, a
// fault or sys.exit replaces it. Same result shape and error kinds as MicroPython.
import { monotonicMs } from '../../core/clock.js';
import { UsageError } from '../../core/errors.js';
import type { ResolvedLimits } from '../../core/limits.js';
import type { HostHooks } from '../../engine/host.js';
import { guardedCall, type CallOutcome } from '../../engine/stop.js';
import { SnapshotError } from '../../engine/snapshot.js';
import type { VfsOptions } from '../../vfs/vfs.js';
import { guardOf, type Executed, type ExecOutcome, type Guest, type SessionClock, type SoftStop } from '../guest.js';
import { auditDeniedImport, faultError, pythonError, stopError } from '../python-common/errors.js';
import { idleHooks } from '../python-common/idle-hooks.js';
import { mayEndInExpression } from '../python-common/program.js';
import type { RunErrorReport } from '../python-common/result.js';
import { GuestExit } from './imports.js';
import type { CPythonInstance } from './instance.js';
import { applySession, captureSession, encodeSession, filesWithRestored, resumedElapsedMs, resumedRandomState, type CPythonSessionState, type DeterminismState } from './snapshot.js';
import { CPythonFS } from './stdlib-fs.js';
import { fitInterpreterStack, newCPythonInstance, templateStdlib } from './template.js';
import { runChannel, type CPythonGrants } from './grants.js';

export interface CPythonConfig {
  env: Record<string, string>;
  argv: string[];
  vfs: VfsOptions;
  grants: CPythonGrants;
  /**
   * Internal, for watchdog tests and benchmarks (createUnmeteredSandbox): the meter has no limit and
   * no deadline inside wasm, so the session cannot stop itself (the module itself is always metered).
   */
  unmetered?: boolean;
}

const SEPARATOR = '\x04';

/**
 * PyErr_SetInterrupt raises KeyboardInterrupt at CPython's next eval-loop check (the runner installs
 * Python's default SIGINT handler, which an embedded interpreter lacks).
 */
const SOFT_STOP: SoftStop<CPythonInstance> = {
  request: (inst) => inst.call((e) => e.PyErr_SetInterrupt()),
  grace: { fuel: 200_000_000, ms: 200 }, // fuel: one unit per instruction (src/instrument/meter.ts)
};

/** Setting up an interpreter (environment, argv, a new random seed): bounded, generous. */
const SETUP_FUEL = 4e9;

/** The last line of a traceback without its "Type: " prefix. */
function messageOf(type: string, traceback: string): string {
  const lines = traceback.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (last === type) return '';
  const colon = last.indexOf(': ');
  return colon >= 0 && last.slice(0, colon).endsWith(type) ? last.slice(colon + 2) : last;
}

/** Python source for a call of the runner with JSON-like arguments (a JSON string is a Python literal). */
function runnerCall(fn: string, ...args: unknown[]): string {
  const literal = (a: unknown) => (typeof a === 'boolean' ? (a ? 'True' : 'False') : JSON.stringify(a));
  return `__import__('sys').modules['_pyfence'].${fn}(${args.map(literal).join(', ')})`;
}

/** Idle hooks with the session's clock and random source, and a memory cap (for setup). */
function setupHooks(clock: SessionClock, memoryLimitBytes: number): HostHooks {
  return { ...idleHooks, clock: clock.clock, randomU32: clock.randomU32, memoryLimitBytes };
}

/** Runs Python source with PyRun_SimpleString; a program's own outcome is read from the runner. */
function exec(inst: CPythonInstance, source: string): ExecOutcome {
  let status = 0;
  let text = null as string | null;
  // The allocator and the runner's module are guest memory (a restored snapshot's, maybe forged):
  // a trap in any of these calls is a fault of this interpreter, never an exception of the host.
  const call = guardedCallOrExit(() => {
    const ptr = inst.allocString(source);
    status = inst.call((e) => e.PyRun_SimpleString(ptr));
    inst.call((e) => e.free(ptr));
    if (status === 0) text = readOutcome(inst);
  });
  if (call.kind !== 'returned') return call;
  if (status !== 0) return { kind: 'fault', message: 'the runner failed (was _pyfence replaced?)' };
  if (text === null) return { kind: 'fault', message: 'the runner left no outcome (was _pyfence replaced?)' };
  if (text === '') return { kind: 'ok' };
  const sep = text.indexOf(SEPARATOR);
  return { kind: 'exception', type: text.slice(0, sep), traceback: text.slice(sep + 1) };
}

/** An interpreter from the template with `state`'s pages and globals written in (released if that fails). */
function continuedInstance(hooks: HostHooks, vfs: CPythonFS, state: CPythonSessionState): CPythonInstance {
  const inst = newCPythonInstance(hooks, vfs);
  try {
    applySession(inst, state);
    fitInterpreterStack(inst);
  } catch (e) {
    inst.release();
    throw e;
  }
  return inst;
}

/**
 * A fresh interpreter made to continue `state`, then given this sandbox's environment and argv.
 * That setup runs the snapshot's own code (its `_pyfence` may be anything), so it runs under the
 * sandbox's memory limit and deadline, with bounded fuel.
 */
function restoredInstance(config: CPythonConfig, vfs: CPythonFS, clock: SessionClock, state: CPythonSessionState, limits: ResolvedLimits): CPythonInstance {
  const inst = continuedInstance(setupHooks(clock, limits.memoryBytes), vfs, state);
  const guard = guardOf(inst, SOFT_STOP, { fuel: Math.min(SETUP_FUEL, limits.fuel), timeoutMs: limits.timeoutMs }, monotonicMs());
  inst.fuel.begin(Math.min(SETUP_FUEL, limits.fuel), guard);
  const outcome = exec(inst, runnerCall('setup', config.env, config.argv, config.grants.json, false));
  inst.fuel.end();
  inst.hooks = idleHooks;
  if (outcome.kind !== 'ok' || guard.softStop !== null) {
    inst.release();
    throw new SnapshotError(`the restored session cannot be set up: ${guard.softStop?.message ?? JSON.stringify(outcome)}`);
  }
  return inst;
}

function freshInstance(config: CPythonConfig, vfs: CPythonFS, clock: SessionClock): CPythonInstance {
  const inst = newCPythonInstance(setupHooks(clock, 2 ** 31), vfs);
  inst.fuel.begin(SETUP_FUEL, { checkpoint() {}, exhausted() {} });
  const outcome = exec(inst, runnerCall('setup', config.env, config.argv, config.grants.json));
  inst.fuel.end();
  if (outcome.kind !== 'ok') throw new Error(`pyfence: setting up the CPython sandbox failed: ${JSON.stringify(outcome)}`);
  inst.hooks = idleHooks;
  return inst;
}

export function cpythonGuest(config: CPythonConfig): Guest<CPythonInstance, CPythonSessionState> {
  const denies = (name: string) => config.grants.denied.some((d) => name === d || name.startsWith(`${d}.`));
  return {
    files: (restored) => newFS(config.vfs, restored),

    resumed: (state, { fixedMs, seed }) => ({
      elapsedMs: fixedMs === null ? 0 : resumedElapsedMs(state, fixedMs),
      randomState: seed === null ? undefined : resumedRandomState(state, seed),
    }),

    instantiate(vfs, clock, restored) {
      if (!restored) return freshInstance(config, vfs as CPythonFS, clock);
      if (!restored.limits) throw new UsageError('a restored CPython session needs the limits of its setup');
      return restoredInstance(config, vfs as CPythonFS, clock, restored.state, restored.limits);
    },

    softStop: SOFT_STOP,

    unmetered: config.unmetered,

    channel: (guard, audit) => runChannel(config.grants.hostCall, () => guard.waitBudgetMs(), audit, () => guard.checkpoint()),

    /**
     * Tracebacks name the program as python3 would: by `program.filename`, else sys.argv[0] (the
     * CLI's file), else <stdin>. `program.inputs`: wire JSON of the run's globals (program.ts).
     */
    exec(inst, code, program) {
      const filename = program.filename || config.argv[0] || '<stdin>';
      return { outcome: exec(inst, runnerCall('run', code, filename, mayEndInExpression(code) ? 1 : 0, program.inputs ?? '')), wrapped: false };
    },

    afterRun: (inst) => inst.clearHostChannel(),

    /** Any Python code takes a pending interrupt (as KeyboardInterrupt). */
    drainInterrupt(inst) {
      const outcome = exec(inst, runnerCall('run', 'pass', '<pyfence>'));
      return outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    },

    classify(executed, run) {
      const error = errorOf(executed, run.capReached, run.limits.memoryBytes);
      auditDeniedImport(error, denies, run.audit);
      return error;
    },

    softStopError: (stop, { outcome }) => stopError(stop.reason, stop.message, outcome.kind === 'exception' ? outcome.traceback : null),

    interruptedAtEnd: { kind: 'python', type: 'KeyboardInterrupt', message: '', traceback: 'KeyboardInterrupt\n' },

    capture: (inst, vfs, clock) => captureSession(inst, vfs, determinismOf(clock)),

    snapshot(inst, vfs, clock) {
      return encodeSession(this.capture(inst, vfs, clock));
    },

    // The pages that differ from the template (a run of `x = 1` leaves ~150 of its ~2,000), the
    // globals; the session's files stay in its VFS. An open file's descriptor is the instance's.
    park: (inst, vfs, clock) => (inst.openFiles > 0 ? null : captureSession(inst, vfs, determinismOf(clock))),

    wake: (vfs, _clock, state) => continuedInstance(idleHooks, vfs as CPythonFS, state),
  };
}

/** Where the session's deterministic clock and random source are, for a snapshot. */
function determinismOf(clock: SessionClock): DeterminismState {
  const virtual = clock.virtual && { startMs: clock.virtual.startMs, elapsedMs: clock.virtual.elapsedBeforeRunMs };
  const random = clock.seeded && { seed: clock.seeded.seed, state: clock.seeded.state };
  return { clock: virtual, random };
}

/** The session's files: the options' (and a restored session's). Refusals are the caller's kind of error. */
function newFS(options: VfsOptions, restored?: CPythonSessionState): CPythonFS {
  try {
    return new CPythonFS(filesWithRestored(options, restored), templateStdlib());
  } catch (e) {
    const message = (e as Error).message;
    throw restored ? new SnapshotError(`snapshot files cannot be restored here: ${message}`) : new UsageError(message);
  }
}

function errorOf({ outcome }: Executed, capReached: boolean, memoryLimit: number): RunErrorReport | null {
  switch (outcome.kind) {
    case 'ok':
      return null;
    case 'exception':
      return pythonError(outcome.type, messageOf(outcome.type, outcome.traceback), outcome.traceback);
    case 'exit':
      return outcome.status === 0 ? null : { kind: 'python', type: 'SystemExit', message: String(outcome.status), traceback: null };
    case 'stopped':
      return stopError(outcome.reason, outcome.message);
    case 'fault':
      if (capReached) return stopError('memory', `memory limit of ${memoryLimit} bytes reached (${outcome.message})`);
      // V8's own stack ran out before CPython's C-recursion check fired (deeply nested C calls).
      if (/stack overflow/.test(outcome.message)) {
        return { kind: 'python', type: 'RecursionError', message: 'maximum recursion depth exceeded (the interpreter\'s native stack overflowed)', traceback: null };
      }
      return faultError(outcome.message);
  }
}

function guardedCallOrExit(call: () => void): CallOutcome | { kind: 'exit'; status: number } {
  try {
    return guardedCall(call);
  } catch (e) {
    if (e instanceof GuestExit) return { kind: 'exit', status: e.status };
    // An import given a pointer or length out of range by a guest that corrupted its own memory
    // (typed-array bounds, a bad table index): the interpreter is broken, not the host.
    if (e instanceof RangeError || e instanceof TypeError) return { kind: 'fault', message: `bad request from the interpreter: ${e.message}` };
    throw e;
  }
}

/** The runner's `outcome` string, read through the C API; null if it is missing or not a str. */
function readOutcome(inst: CPythonInstance): string | null {
  const names = inst.allocString('_pyfence\0outcome');
  try {
    return inst.call((e) => {
      const mod = e.PyImport_AddModule(names);
      const obj = mod ? e.PyObject_GetAttrString(mod, names + '_pyfence'.length + 1) : 0;
      if (!obj) {
        e.PyErr_Clear();
        return null;
      }
      try {
        const sizePtr = e.malloc(4);
        const ptr = e.PyUnicode_AsUTF8AndSize(obj, sizePtr);
        const size = inst.memory.u32(sizePtr);
        e.free(sizePtr);
        if (ptr) return inst.memory.utf8(ptr, size);
        e.PyErr_Clear();
        return null;
      } finally {
        e.Py_DecRef(obj);
      }
    });
  } finally {
    inst.call((e) => e.free(names));
  }
}
