// A CPython session on the calling thread: one interpreter, replaced by a fresh one from the template
// after a hard stop or a fault. Same result shape and error kinds as the MicroPython sessions.
import { AuditTrail } from '../../core/audit.js';
import { systemClock, systemRandomU32, type HostHooks } from '../../engine/host.js';
import { guardedCall, type CallOutcome } from '../../engine/stop.js';
import { STOP_TYPE } from '../../core/stop.js';
import { UsageError, type ErrorKind } from '../../core/errors.js';
import type { ResolvedLimits } from '../../core/limits.js';
import { OutputCollector, type OutputCallbacks } from '../../core/output.js';
import { RunOutcome, type RunErrorReport, type RunResult } from '../python-common/result.js';
import { runFsOp, type FsOp } from '../../capabilities/sandbox-fs.js';
import { idleHooks } from '../python-common/idle-hooks.js';
import { mayEndInExpression, type ProgramSpec } from '../python-common/program.js';
import { SeededRandom, VirtualClock, type Determinism } from '../../core/determinism.js';
import { SnapshotError } from '../../engine/snapshot.js';
import type { VfsOptions } from '../../vfs/vfs.js';
import { GuestExit } from './imports.js';
import type { CPythonInstance } from './instance.js';
import { cpythonGuard } from './run-guard.js';
import { applySession, captureSession, encodeSession, filesWithRestored, resumedElapsedMs, resumedRandomState, type CPythonSessionState } from './snapshot.js';
import { CPythonFS } from './stdlib-fs.js';
import { cpythonTemplate, newCPythonInstance } from './template.js';
import { auditDeniedImport, runChannel, type CPythonGrants } from './grants.js';

export interface CPythonConfig {
  env: Record<string, string>;
  argv: string[];
  determinism: Determinism;
  vfs: VfsOptions;
  grants: CPythonGrants;
  /** Set to 1 by another thread to interrupt the running code with KeyboardInterrupt (worker sandboxes). */
  interrupt?: Int32Array;
  /**
   * Internal, for watchdog tests and benchmarks (createUnmeteredSandbox): the meter has no limit and
   * no deadline inside wasm, so the session cannot stop itself (the module itself is always metered).
   */
  unmetered?: boolean;
}

/** A snapshot's session to continue, and the limits its setup runs under. */
export interface CPythonRestore {
  state: CPythonSessionState;
  limits: ResolvedLimits;
}

const UNCHECKED = { checkpoint() {}, exhausted() {} };

const SEPARATOR = '\x04';
const KIND_OF_PYTHON_TYPE: Record<string, ErrorKind> = { MemoryError: 'memory', PermissionError: 'denied' };
const POLICY_IMPORT_ERROR = /not allowed in this sandbox|not granted to this sandbox/;

type Outcome =
  | { kind: 'ok' }
  | { kind: 'exception'; type: string; traceback: string }
  | { kind: 'exit'; status: number }
  | Exclude<CallOutcome, { kind: 'returned' }>;

/** Setting up a restored interpreter (environment, argv, a new random seed): bounded, generous. */
const SETUP_FUEL = 1e9;

/** The last line of a traceback without its "Type: " prefix. */
function messageOf(type: string, traceback: string): string {
  const lines = traceback.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (last === type) return '';
  const colon = last.indexOf(': ');
  return colon >= 0 && last.slice(0, colon).endsWith(type) ? last.slice(colon + 2) : last;
}

function pythonError(type: string, traceback: string): RunErrorReport {
  const message = messageOf(type, traceback);
  const kind = type === 'ImportError' && POLICY_IMPORT_ERROR.test(message) ? 'denied' : (KIND_OF_PYTHON_TYPE[type] ?? 'python');
  return { kind, type, message, traceback };
}

/** Python source for a call of the runner with JSON-like arguments (a JSON string is a Python literal). */
function runnerCall(fn: string, ...args: unknown[]): string {
  const literal = (a: unknown) => (typeof a === 'boolean' ? (a ? 'True' : 'False') : JSON.stringify(a));
  return `__import__('sys').modules['_pyfence'].${fn}(${args.map(literal).join(', ')})`;
}

export class CPythonSession {
  vfs: CPythonFS;
  private instance: CPythonInstance | null;
  private readonly virtualClock: VirtualClock | null;
  private readonly randomU32: () => number;
  private readonly seeded: SeededRandom | null;
  private running = false;

  /** `restored`: continue a snapshot's session (checked by snapshot.ts) under these limits. */
  constructor(
    private readonly config: CPythonConfig,
    restored?: CPythonRestore,
  ) {
    this.vfs = newFS(config.vfs, restored?.state);
    const { fixedMs, seed } = config.determinism;
    this.virtualClock = fixedMs === null ? null : new VirtualClock(fixedMs, resumedElapsedMs(restored?.state, fixedMs));
    this.seeded = seed === null ? null : new SeededRandom(seed, resumedRandomState(restored?.state, seed));
    this.randomU32 = this.seeded?.next ?? systemRandomU32;
    this.instance = restored ? this.restoredInstance(restored.state, restored.limits) : this.freshInstance();
  }

  /**
   * A fresh interpreter made to continue `state`, then given this sandbox's environment and argv.
   * That setup runs the snapshot's own code (its `_pyfence` may be anything), so it runs under the
   * sandbox's memory limit and deadline, with bounded fuel.
   */
  private restoredInstance(state: CPythonSessionState, limits: ResolvedLimits): CPythonInstance {
    const inst = newCPythonInstance(this.hooks(idleHooks.stdout, idleHooks.stderr, limits.memoryBytes, idleHooks.sleep), this.vfs);
    try {
      applySession(inst, state);
    } catch (e) {
      inst.release();
      throw e;
    }
    const guard = cpythonGuard(inst, { fuel: Math.min(SETUP_FUEL, limits.fuel), timeoutMs: limits.timeoutMs }, performance.now());
    inst.fuel.begin(Math.min(SETUP_FUEL, limits.fuel), guard);
    const outcome = this.exec(inst, runnerCall('setup', this.config.env, this.config.argv, this.config.grants.json, false));
    inst.fuel.end();
    inst.hooks = idleHooks;
    if (outcome.kind !== 'ok' || guard.softStop !== null) {
      inst.release();
      throw new SnapshotError(`the restored session cannot be set up: ${guard.softStop?.message ?? JSON.stringify(outcome)}`);
    }
    return inst;
  }

  private freshInstance(): CPythonInstance {
    this.instance?.release();
    const inst = newCPythonInstance(this.hooks(idleHooks.stdout, idleHooks.stderr, 2 ** 31, idleHooks.sleep), this.vfs);
    inst.fuel.begin(SETUP_FUEL, { checkpoint() {}, exhausted() {} });
    const outcome = this.exec(inst, runnerCall('setup', this.config.env, this.config.argv, this.config.grants.json));
    inst.fuel.end();
    if (outcome.kind !== 'ok') throw new Error(`pyfence: setting up the CPython sandbox failed: ${JSON.stringify(outcome)}`);
    inst.hooks = idleHooks;
    return inst;
  }

  private hooks(stdout: HostHooks['stdout'], stderr: HostHooks['stderr'], memoryLimitBytes: number, sleep: HostHooks['sleep']): HostHooks {
    return {
      stdout,
      stderr,
      clock: this.virtualClock ?? systemClock,
      randomU32: this.randomU32,
      memoryLimitBytes,
      sleep,
      hostCall: idleHooks.hostCall,
    };
  }

  /** Runs Python source with PyRun_SimpleString; a program's own outcome is read from the runner. */
  private exec(inst: CPythonInstance, source: string): Outcome {
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

  get disposed(): boolean {
    return this.instance === null;
  }

  /** A fresh interpreter and files for a pool's next run: nothing of the last run is left. */
  renew(): void {
    if (!this.instance) throw new UsageError('this sandbox has been disposed');
    this.vfs = newFS(this.config.vfs);
    this.instance = this.freshInstance();
  }

  /**
   * Tracebacks name the program as python3 would: by `program.filename`, else sys.argv[0] (the CLI's
   * file), else <stdin>. `program.inputs`: wire JSON of the run's globals (program.ts), or null.
   */
  run(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, program?: ProgramSpec): RunResult {
    const filename = program?.filename || this.config.argv[0] || '<stdin>';
    const inputs = program?.inputs ?? null;
    const inst = this.instance;
    if (!inst) throw new UsageError('this sandbox has been disposed');
    if (this.running) throw new UsageError('this sandbox is already running');
    this.running = true;
    try {
      return this.runNow(inst, code, limits, callbacks, filename, inputs);
    } finally {
      this.running = false;
    }
  }

  private runNow(inst: CPythonInstance, code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, filename: string, inputs: string | null): RunResult {
    const output = new OutputCollector(limits.outputBytes, callbacks);
    const started = performance.now();
    const interrupt = this.config.interrupt;
    if (interrupt) Atomics.store(interrupt, 0, 0); // a Ctrl-C between runs is moot
    const guard = cpythonGuard(inst, limits, started, interrupt);
    const virtual = this.virtualClock;
    const sleep = virtual ? (ms: number) => (virtual.sleep(ms), guard.checkpoint()) : guard.sleep;
    // File refusals come through the engine's syscall layer, host calls through the bridge's gate.
    const audit = new AuditTrail();
    const channel = runChannel(this.config.grants.hostCall, () => guard.waitBudgetMs(), audit.add, () => guard.checkpoint());
    inst.hooks = { ...this.hooks(output.stdout, output.stderr, limits.memoryBytes, sleep), hostCall: channel.hostCall, refused: audit.add };
    inst.resetMemoryPeak();
    if (this.config.unmetered) inst.fuel.begin(Infinity, UNCHECKED);
    else inst.fuel.begin(limits.fuel, guard);
    virtual?.beginRun(() => inst.fuel.used());
    const outcome = this.exec(inst, runnerCall('run', code, filename, mayEndInExpression(code) ? 1 : 0, inputs ?? ''));
    virtual?.endRun();
    const fuel = inst.fuel.end();
    const wallMs = performance.now() - started;
    const memoryPeakBytes = inst.memoryPeakBytes;
    const capReached = inst.memoryCapReached;
    const memoryLimit = limits.memoryBytes;
    inst.hooks = idleHooks;
    inst.clearHostChannel();
    const interruptConsumed = outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    const replaced = !(outcome.kind === 'ok' || outcome.kind === 'exception') || (guard.softStop !== null && !interruptConsumed);
    if (replaced) this.instance = this.freshInstance();
    // An interrupt that came as the program ended is still pending: taken now, it is the run's error.
    const interruptedAtEnd = !replaced && guard.interrupted && !interruptConsumed && this.drainInterrupt(inst);
    const { stdout, stderr } = output.finish();
    let error: RunErrorReport | null;
    if (interruptedAtEnd && outcome.kind === 'ok') {
      error = { kind: 'python', type: 'KeyboardInterrupt', message: '', traceback: 'KeyboardInterrupt\n' };
    } else if (guard.softStop) {
      const traceback = outcome.kind === 'exception' ? outcome.traceback : null;
      error = { kind: guard.softStop.reason, type: STOP_TYPE[guard.softStop.reason], message: guard.softStop.message, traceback };
    } else {
      error = errorOf(outcome, capReached, memoryLimit);
      auditDeniedImport(error, this.config.grants.denied, audit.add);
    }
    const value = error ? null : channel.value();
    return new RunOutcome(error === null, stdout, stderr, error, { fuel, memoryPeakBytes, wallMs }, replaced, value, audit.toJSON()).typed();
  }

  /** True if an interrupt was pending: any Python code takes it (as KeyboardInterrupt). */
  private drainInterrupt(inst: CPythonInstance): boolean {
    const outcome = this.exec(inst, runnerCall('run', 'pass', '<pyfence>'));
    return outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
  }

  /** `sb.fs` operations, between runs. */
  async fsOp(op: FsOp): Promise<{ value: unknown } | { code: string; message: string }> {
    return runFsOp(this.vfs, op);
  }

  /** The session's whole state between runs (snapshot.ts): what `fork` copies in this process. */
  captureState(): CPythonSessionState {
    if (!this.instance) throw new UsageError('this sandbox has been disposed');
    if (this.running) throw new UsageError('a CPython sandbox cannot be snapshotted while it runs (take the snapshot after the run)');
    const clock = this.virtualClock && { startMs: this.virtualClock.startMs, elapsedMs: this.virtualClock.elapsedBeforeRunMs };
    const random = this.seeded && { seed: this.seeded.seed, state: this.seeded.state };
    return captureSession(this.instance, this.vfs, { clock, random });
  }

  /** `captureState` as snapshot bytes (unkeyed: the Sandbox signs them when it has a key). */
  snapshot(): Uint8Array {
    return encodeSession(this.captureState());
  }

  dispose(): void {
    if (this.running) throw new UsageError('dispose a running CPython sandbox after its run');
    this.instance?.release();
    this.instance = null;
  }
}

/** The session's files: the options' (and a restored session's). Refusals are the caller's kind of error. */
function newFS(options: VfsOptions, restored?: CPythonSessionState): CPythonFS {
  try {
    return new CPythonFS(filesWithRestored(options, restored), cpythonTemplate().stdlib);
  } catch (e) {
    const message = (e as Error).message;
    throw restored ? new SnapshotError(`snapshot files cannot be restored here: ${message}`) : new UsageError(message);
  }
}

function errorOf(outcome: Outcome, capReached: boolean, memoryLimit: number): RunErrorReport | null {
  switch (outcome.kind) {
    case 'ok':
      return null;
    case 'exception':
      return pythonError(outcome.type, outcome.traceback);
    case 'exit':
      return outcome.status === 0 ? null : { kind: 'python', type: 'SystemExit', message: String(outcome.status), traceback: null };
    case 'stopped':
      return { kind: outcome.reason, type: STOP_TYPE[outcome.reason], message: outcome.message, traceback: null };
    case 'fault':
      if (capReached) return { kind: 'memory', type: STOP_TYPE.memory, message: `memory limit of ${memoryLimit} bytes reached (${outcome.message})`, traceback: null };
      // V8's own stack ran out before CPython's C-recursion check fired (deeply nested C calls).
      if (/stack overflow/.test(outcome.message)) {
        return { kind: 'python', type: 'RecursionError', message: 'maximum recursion depth exceeded (the interpreter\'s native stack overflowed)', traceback: null };
      }
      return { kind: 'fault', type: 'SandboxFault', message: outcome.message, traceback: null };
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
