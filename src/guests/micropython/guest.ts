// A session on the calling thread: one engine instance, replaced after a hard stop or fault.
import { AuditTrail, type AuditSink } from '../../core/audit.js';
import { systemClock, systemRandomU32 } from '../../engine/host.js';
import type { EngineInstance } from './instance.js';
import type { InstanceState } from '../../engine/snapshot.js';
import { DEFAULT_DENIED } from '../../capabilities/import-policy.js';
import { applyImportPolicy } from './import-table.js';
import { newInstance } from './instances.js';
import { idleHooks } from '../python-common/idle-hooks.js';
import { withoutRunWrapperFrame, withoutSandboxFrames, withoutWrapperFrame } from '../python-common/traceback.js';
import { VirtualFS } from '../../vfs/vfs.js';
import { snapshotInstance } from './session-snapshot.js';
import type { ModuleVariant } from '../../engine/abi.js';
import { describeError } from '../../engine/stop.js';
import { STOP_TYPE } from '../../core/stop.js';
import { UsageError, type ErrorKind } from '../../core/errors.js';
import { exceptionMessage, execSource, type ExecOutcome } from './interpreter.js';
import type { ResolvedLimits } from '../../core/limits.js';
import { OutputCollector, type OutputCallbacks } from '../../core/output.js';
import { RunOutcome, type RunErrorReport, type RunResult } from '../python-common/result.js';
import { DEFAULT_FILENAME, prepareProgram, valueReportOf, type ProgramSpec, type ValueReport } from '../python-common/program.js';
import { micropythonGuard, type RunGuard } from './run-guard.js';
import { seededRandomU32, VirtualClock, type Determinism } from '../../core/determinism.js';


/** Python exceptions that mean a limit was hit or a grant was missing, rather than a bug in the program. */
const KIND_OF_PYTHON_TYPE: Record<string, ErrorKind> = { MemoryError: 'memory', PermissionError: 'denied' };
/** ImportErrors raised by the sandbox's policy (a denied module, a capability not granted). */
const POLICY_IMPORT_ERROR = /not allowed in this sandbox|not granted to this sandbox/;

function pythonErrorKind(type: string, message: string): ErrorKind {
  if (type === 'ImportError' && POLICY_IMPORT_ERROR.test(message)) return 'denied';
  return KIND_OF_PYTHON_TYPE[type] ?? 'python';
}

const NOT_ALLOWED_MODULE = /^module '([^']+)' is not allowed in this sandbox$/;

/**
 * Audits an import the policy denied. The message comes from the guest, so the module it names must
 * be one the host's policy denies: a guest raising that text itself for another name is not recorded.
 */
function auditDeniedImport(message: string, denied: readonly string[], audit: AuditSink): void {
  const name = NOT_ALLOWED_MODULE.exec(message)?.[1];
  if (name !== undefined && (denied.includes(name) || (name.startsWith('u') && denied.includes(name.slice(1))))) {
    audit('denied-import', name);
  }
}

/**
 * A denied builtin module is invisible to the interpreter, which says "no module named 'X'" when the
 * prelude's import wrapper (which says why) has been removed by the guest: say why here too.
 */
function explainDeniedImport(type: string, traceback: string, denied: readonly string[]): string {
  if (type !== 'ImportError') return traceback;
  return traceback.replace(/ImportError: no module named '([^']+)'\n$/, (line, name: string) =>
    denied.includes(name) || (name.startsWith('u') && denied.includes(name.slice(1)))
      ? `ImportError: module '${name}' is not allowed in this sandbox\n`
      : line,
  );
}

function errorOf(outcome: ExecOutcome, denied: readonly string[], wrapped: boolean, audit: AuditSink): RunErrorReport | null {
  switch (outcome.kind) {
    case 'ok':
      return null;
    case 'exception':
      if (outcome.type === 'SystemExit' && /SystemExit(: 0)?\s*$/.test(outcome.traceback)) return null;
    {
      let traceback = explainDeniedImport(outcome.type, withoutSandboxFrames(outcome.traceback), denied);
      if (wrapped) traceback = withoutRunWrapperFrame(traceback);
      const message = exceptionMessage(outcome.type, traceback);
      if (outcome.type === 'ImportError') auditDeniedImport(message, denied, audit);
      return { kind: pythonErrorKind(outcome.type, message), type: outcome.type, message, traceback };
    }
    case 'stopped':
      return { kind: outcome.reason, type: STOP_TYPE[outcome.reason], message: outcome.message, traceback: null };
    case 'fault':
      return { kind: 'fault', type: 'SandboxFault', message: outcome.message, traceback: null };
  }
}

const INTERRUPTED_AT_END: RunErrorReport = { kind: 'python', type: 'KeyboardInterrupt', message: '', traceback: 'KeyboardInterrupt: \n' };

/**
 * An interrupt may still be pending if it arrived as the run ended: a backward jump consumes it.
 * True if one was pending.
 */
function drainInterrupt(inst: EngineInstance): boolean {
  const outcome = execSource(inst, '[0 for _ in (1, 2)]');
  return outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
}

/** A soft stop reports the limit, with the KeyboardInterrupt's traceback showing where it stopped. */
function limitError(stop: NonNullable<RunGuard['softStop']>, outcome: ExecOutcome, wrapped: boolean): RunErrorReport {
  const unwrap = wrapped ? withoutRunWrapperFrame : withoutWrapperFrame;
  const traceback = outcome.kind === 'exception' ? unwrap(withoutSandboxFrames(outcome.traceback)) : null;
  return { kind: stop.reason, type: STOP_TYPE[stop.reason], message: stop.message, traceback };
}

/** What a session sets up in each interpreter and how it answers host calls. */
export interface GuestConfig {
  /** JSON for `__pyfence__.setup` (host modules, env, argv), or null. */
  spec: string | null;
  /** Answers one host call; may block up to `guard.waitBudgetMs()`. Refusals go to `audit`. */
  hostCall(request: string | null, guard: RunGuard, audit: AuditSink): string;
  /** Deterministic mode: a fixed clock that moves with fuel, a seeded random source. */
  determinism?: Determinism;
  /** Set to 1 by another thread to interrupt the running code with KeyboardInterrupt. */
  interrupt?: Int32Array;
  /** Modules the guest may not import (import-policy.ts); the defaults when absent. */
  denied?: readonly string[];
  /**
   * Makes the session's files (kept across runs and across replaced interpreters; made anew only
   * when a pool renews the session for its next run).
   */
  vfs?: () => VirtualFS;
}

const PLAIN_PROGRAM: ProgramSpec = { inputs: null, filename: DEFAULT_FILENAME };
const NO_REPLY = '{"ok":null}';

const NO_GRANTS: GuestConfig = {
  spec: null,
  hostCall: (_request, _guard, audit) => {
    audit('host-call', 'no host functions are granted to this sandbox');
    return JSON.stringify({ error: ['RuntimeError', 'no host functions are granted to this sandbox'] });
  },
};

/** Budget for setting up a fresh interpreter (a few module objects): generous, but bounded. */
const SETUP_LIMITS = { fuel: 1e9, timeoutMs: 10_000 };

export class InlineSession {
  private instance: EngineInstance | null;
  vfs: VirtualFS;
  private readonly virtualClock: VirtualClock | null;
  private readonly randomU32: () => number;

  /** `restored`: start from a snapshot's state instead of a fresh interpreter. */
  constructor(
    private readonly variant: ModuleVariant,
    private readonly guest: GuestConfig = NO_GRANTS,
    restored?: InstanceState,
  ) {
    this.vfs = guest.vfs?.() ?? new VirtualFS();
    const { fixedMs = null, seed = null } = guest.determinism ?? {};
    this.virtualClock = fixedMs === null ? null : new VirtualClock(fixedMs);
    this.randomU32 = seed === null ? systemRandomU32 : seededRandomU32(seed);
    this.instance = this.freshInstance(restored);
  }

  private freshInstance(restored?: InstanceState): EngineInstance {
    this.instance?.release();
    const inst = newInstance(this.variant, this.vfs);
    if (restored) inst.restoreState(restored);
    applyImportPolicy(inst, this.variant, this.guest.denied ?? DEFAULT_DENIED);
    // A restored interpreter still holds the grants of the session it came from: replace them.
    const spec = this.guest.spec ?? (restored ? '{}' : null);
    if (spec !== null) {
      inst.fuel.begin(SETUP_LIMITS.fuel, micropythonGuard(inst, SETUP_LIMITS, performance.now()));
      const outcome = execSource(inst, `__pyfence__.setup(${JSON.stringify(spec)})`);
      inst.fuel.end();
      if (outcome.kind !== 'ok') throw new Error(`pyfence: setting up the sandbox failed: ${JSON.stringify(outcome)}`);
    }
    return inst;
  }

  /**
   * Replaces the interpreter with a fresh one for a pool's next run, warmed up: running an empty
   * program touches the pages the compiler and VM use, which halves the next run's latency.
   */
  renew(): void {
    if (!this.instance) throw new UsageError('this sandbox has been disposed');
    this.vfs = this.guest.vfs?.() ?? new VirtualFS(); // files written by the last run go with it
    this.instance = this.freshInstance();
    execSource(this.instance, 'pass');
  }

  /** The session's state between runs (see session-snapshot.ts). */
  snapshot(): Uint8Array {
    if (!this.instance) throw new UsageError('this sandbox has been disposed');
    return snapshotInstance(this.instance, this.variant, this.vfs);
  }

  /** The raw state, for an in-process copy (fork) without compressing. */
  captureState(): InstanceState {
    if (!this.instance) throw new UsageError('this sandbox has been disposed');
    return this.instance.captureState();
  }

  get disposed(): boolean {
    return this.instance === null;
  }

  /** A run in progress: dispose() called from inside it (by a host callback) waits for its end. */
  private running = false;
  private disposeAfterRun = false;

  /** `program`: the run's inputs and file name (program.ts). */
  run(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, program: ProgramSpec = PLAIN_PROGRAM): RunResult {
    if (this.running) throw new UsageError('this sandbox is already running');
    this.running = true;
    try {
      return this.runNow(code, limits, callbacks, program);
    } finally {
      this.running = false;
      if (this.disposeAfterRun) this.dispose();
    }
  }

  private runNow(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, program: ProgramSpec): RunResult {
    const inst = this.instance;
    if (!inst) throw new UsageError('this sandbox has been disposed');
    const output = new OutputCollector(limits.outputBytes, callbacks);
    const audit = new AuditTrail();
    const started = performance.now();
    try {
      return this.execute(inst, code, limits, output, started, program, audit);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return this.faulted(inst, e, output, started, audit);
    }
  }

  /**
   * A host-side exception outside the guarded guest call (e.g. while preparing it): the run ends as a
   * fault with a fresh interpreter, never as a rejection.
   */
  private faulted(inst: EngineInstance, e: unknown, output: OutputCollector, started: number, audit: AuditTrail): RunResult {
    let fuel = 0;
    try {
      fuel = inst.fuel.end();
    } catch {
      // the instance is beyond reading; its fuel is unknown
    }
    inst.hooks = idleHooks;
    this.instance = this.freshInstance();
    const { stdout, stderr } = output.finish();
    const message = `host error during the run: ${describeError(e)}`;
    const usage = { fuel, memoryPeakBytes: inst.memoryPeakBytes, wallMs: performance.now() - started };
    const error: RunErrorReport = { kind: 'fault', type: 'SandboxFault', message, traceback: null };
    return new RunOutcome(false, stdout, stderr, error, usage, true, null, audit.toJSON()).typed();
  }

  private execute(
    inst: EngineInstance,
    code: string,
    limits: ResolvedLimits,
    output: OutputCollector,
    started: number,
    program: ProgramSpec,
    audit: AuditTrail,
  ): RunResult {
    let value: ValueReport | null = null;
    if (this.guest.interrupt) Atomics.store(this.guest.interrupt, 0, 0); // a Ctrl-C between runs is moot
    const guard = micropythonGuard(inst, limits, started, this.guest.interrupt);
    const virtual = this.virtualClock;
    inst.hooks = {
      stdout: output.stdout,
      stderr: output.stderr,
      clock: virtual ?? systemClock,
      randomU32: this.randomU32,
      memoryLimitBytes: limits.memoryBytes,
      // A virtual sleep moves the clock without waiting (a deadline check still happens).
      sleep: virtual ? (ms) => (virtual.sleep(ms), guard.checkpoint()) : guard.sleep,
      hostCall: (request) => {
        const report = request === null ? null : valueReportOf(request);
        if (report) return (value = report), NO_REPLY;
        const reply = this.guest.hostCall(request, guard, audit.add);
        guard.checkpoint(); // time spent in the host counts against the deadline
        return reply;
      },
      refused: audit.add,
    };
    inst.resetMemoryPeak();
    inst.fuel.begin(limits.fuel, guard);
    virtual?.beginRun(() => inst.fuel.used());
    const prepared = prepareProgram(code, program);
    const outcome = execSource(inst, prepared.source, prepared.topLevelAwait);
    virtual?.endRun();
    const fuel = inst.fuel.end();
    const wallMs = performance.now() - started;
    const memoryPeakBytes = inst.memoryPeakBytes;
    inst.hooks = idleHooks;
    // After a soft stop the interrupt may still be pending if the guest never reached a check.
    const interruptConsumed = outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    const replaced =
      outcome.kind === 'stopped' || outcome.kind === 'fault' || (guard.softStop !== null && !interruptConsumed);
    if (replaced) this.instance = this.freshInstance();
    const interruptedAtEnd = !replaced && guard.interrupted && !interruptConsumed && drainInterrupt(inst);
    const { stdout, stderr } = output.finish();
    const error = guard.softStop
      ? limitError(guard.softStop, outcome, prepared.wrapped)
      : interruptedAtEnd && outcome.kind === 'ok'
        ? INTERRUPTED_AT_END // e.g. Ctrl-C in a final time.sleep: the guest had no check left to raise it
        : errorOf(outcome, this.guest.denied ?? DEFAULT_DENIED, prepared.wrapped, audit.add);
    const usage = { fuel, memoryPeakBytes, wallMs };
    return new RunOutcome(error === null, stdout, stderr, error, usage, replaced, error ? null : value, audit.toJSON()).typed();
  }

  dispose(): void {
    if (this.running) {
      this.disposeAfterRun = true;
      return;
    }
    this.instance?.release();
    this.instance = null;
  }
}
