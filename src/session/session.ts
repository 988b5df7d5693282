// One session on the calling thread, over any guest (src/guests/guest.ts): the run guard, output cap,
// audit, clock, fuel, replacement of the instance after a hard stop or fault, the interrupt drain and
// one dispose rule. What differs between the interpreters and modules is the guest's.
import { monotonicMs } from '../core/clock.js';
import { AuditTrail } from '../core/audit.js';
import { SeededRandom, VirtualClock, type Determinism } from '../core/determinism.js';
import { UsageError } from '../core/errors.js';
import type { ResolvedLimits } from '../core/limits.js';
import { OutputCollector, type OutputCallbacks } from '../core/output.js';
import { systemClock, systemRandomU32 } from '../engine/host.js';
import { describeError } from '../engine/stop.js';
import { runFsOp, type FsOp } from '../capabilities/sandbox-fs.js';
import type { VirtualFS } from '../vfs/vfs.js';
import { guardOf, type Guest, type GuestInstance, type RunReport, type SessionClock } from '../guests/guest.js';
import { DEFAULT_FILENAME, type ProgramSpec } from '../guests/python-common/program.js';
import { RunOutcome, type RunErrorReport, type RunResult } from '../guests/python-common/result.js';
import { idleHooks } from '../guests/python-common/idle-hooks.js';

export interface SessionOptions {
  /** Deterministic mode: a fixed clock that moves with fuel, a seeded random source. */
  determinism?: Determinism;
  /** Set to 1 by another thread to interrupt the running code with KeyboardInterrupt. */
  interrupt?: Int32Array;
}

/** A restored session's state, and the limits its setup runs under. */
export interface Restore<S> {
  state: S;
  limits?: ResolvedLimits;
}

const PLAIN_PROGRAM: ProgramSpec = { inputs: null, filename: DEFAULT_FILENAME };
const UNCHECKED = { checkpoint() {}, exhausted() {} };

function sessionClock(determinism: Determinism | undefined, resumed?: { elapsedMs: number; randomState: number | undefined }): SessionClock {
  const { fixedMs = null, seed = null } = determinism ?? {};
  const virtual = fixedMs === null ? null : new VirtualClock(fixedMs, resumed?.elapsedMs ?? 0);
  const seeded = seed === null ? null : new SeededRandom(seed, resumed?.randomState ?? seed >>> 0);
  return { clock: virtual ?? systemClock, randomU32: seeded?.next ?? systemRandomU32, virtual, seeded };
}

/** A Python run's result, for guests that give no result of their own. */
function pythonResult(r: RunReport): RunResult {
  return new RunOutcome(r.ok, r.stdout, r.stderr, r.error, r.usage, r.replaced, r.value, r.audit).typed();
}

export class Session<I extends GuestInstance = GuestInstance, S = unknown, P = ProgramSpec, R = RunResult> {
  vfs: VirtualFS;
  private instance: I | null;
  private readonly clock: SessionClock;
  private readonly interrupt: Int32Array | undefined;
  /** A hibernating session's state: its instance was released, and the next use wakes it. */
  private parked: S | null = null;
  /** A run in progress: dispose() called from inside it (by a host callback) waits for its end. */
  private running = false;
  private disposeAfterRun = false;

  /** `restored`: continue a snapshot's (or a fork's) session instead of starting afresh. */
  constructor(
    private readonly guest: Guest<I, S, P, R>,
    options: SessionOptions = {},
    restored?: Restore<S>,
  ) {
    this.vfs = guest.files(restored?.state);
    const resumed = restored && options.determinism ? guest.resumed?.(restored.state, options.determinism) : undefined;
    this.clock = sessionClock(options.determinism, resumed);
    this.interrupt = options.interrupt;
    this.instance = guest.instantiate(this.vfs, this.clock, restored);
  }

  private fresh(): I {
    this.instance?.release();
    return this.guest.instantiate(this.vfs, this.clock);
  }

  get disposed(): boolean {
    return this.instance === null && this.parked === null;
  }

  get hibernating(): boolean {
    return this.parked !== null;
  }

  /**
   * Between runs, keeps only the state the instance continues from and gives its memory back (an
   * idle CPython session: ~0.6 MiB instead of ~7.7). False if the guest cannot (no `park`, open files).
   */
  hibernate(): boolean {
    if (this.running || this.instance === null || !this.guest.park) return false;
    const state = this.guest.park(this.instance, this.vfs, this.clock);
    if (state === null) return false;
    this.instance.release();
    this.instance = null;
    this.parked = state;
    return true;
  }

  private live(): I {
    if (this.instance) return this.instance;
    if (this.parked === null) throw new UsageError('this sandbox has been disposed');
    // A failed wake keeps the state: the next call tries again.
    this.instance = this.guest.wake!(this.vfs, this.clock, this.parked);
    this.parked = null;
    return this.instance;
  }

  /** A fresh instance and files for a pool's next run: nothing of the last run is left. */
  renew(): void {
    this.live();
    this.vfs = this.guest.files();
    this.instance = this.fresh();
    this.guest.warm?.(this.instance);
  }

  /** Touches the pages a first run would fault in, where the guest knows how (a pool's spares). */
  warm(): void {
    this.guest.warm?.(this.live());
  }

  /** The state between runs, for an in-process copy (fork) without encoding; a hibernating session's as it is. */
  captureState(): S {
    if (this.parked !== null) return this.parked;
    const inst = this.between();
    return this.guest.capture(inst, this.vfs, this.clock);
  }

  /** The session's state between runs as snapshot bytes (unsigned: the Sandbox signs them). */
  snapshot(): Uint8Array {
    const inst = this.between();
    return this.guest.snapshot(inst, this.vfs, this.clock);
  }

  private between(): I {
    const inst = this.live();
    if (this.running) throw new UsageError('a sandbox cannot be snapshotted while it runs (take the snapshot after the run)');
    return inst;
  }

  /** `sb.fs` operations, between runs. */
  async fsOp(op: FsOp): Promise<{ value: unknown } | { code: string; message: string }> {
    return runFsOp(this.vfs, op);
  }

  /** `program`: what the guest takes besides the code (Python: the run's inputs and file name, program.ts). */
  run(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, program: P = PLAIN_PROGRAM as P): R {
    const inst = this.live();
    if (this.running) throw new UsageError('this sandbox is already running');
    this.running = true;
    const output = new OutputCollector(limits.outputBytes, callbacks);
    const audit = new AuditTrail();
    const started = monotonicMs();
    try {
      return this.execute(inst, code, limits, program, output, audit, started);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return this.faulted(inst, e, output, started, audit);
    } finally {
      this.running = false;
      if (this.disposeAfterRun) this.dispose();
    }
  }

  private execute(inst: I, code: string, limits: ResolvedLimits, program: P, output: OutputCollector, audit: AuditTrail, started: number): R {
    const guest = this.guest;
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0); // a Ctrl-C between runs is moot
    const guard = guardOf(inst, guest.softStop, limits, started, this.interrupt, guest.stopMessage);
    const virtual = this.clock.virtual;
    const channel = guest.channel(guard, audit.add);
    inst.hooks = {
      stdout: output.stdout,
      stderr: output.stderr,
      clock: this.clock.clock,
      randomU32: this.clock.randomU32,
      memoryLimitBytes: limits.memoryBytes,
      // A virtual sleep moves the clock without waiting (a deadline check still happens).
      sleep: virtual ? (ms) => (virtual.sleep(ms), guard.checkpoint()) : guard.sleep,
      hostCall: channel.hostCall,
      refused: audit.add,
    };
    inst.resetMemoryPeak();
    if (guest.unmetered) inst.fuel.begin(Infinity, UNCHECKED);
    else inst.fuel.begin(limits.fuel, guard);
    virtual?.beginRun(() => inst.fuel.used());
    const executed = guest.exec(inst, code, program);
    virtual?.endRun();
    const fuel = inst.fuel.end();
    const wallMs = monotonicMs() - started;
    const memoryPeakBytes = inst.memoryPeakBytes;
    const capReached = inst.memoryCapReached;
    inst.hooks = idleHooks;
    guest.afterRun?.(inst);
    const { outcome } = executed;
    // After a soft stop the interrupt may still be pending if the guest never reached a check.
    const interruptConsumed = outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    const replaced = !(outcome.kind === 'ok' || outcome.kind === 'exception') || (guard.softStop !== null && !interruptConsumed);
    if (replaced) this.instance = this.fresh();
    // An interrupt that came as the program ended is still pending: taken now, it is the run's error
    // (e.g. Ctrl-C in a final time.sleep: the guest had no check left to raise it).
    const interruptedAtEnd = !replaced && guard.interrupted && !interruptConsumed && (guest.drainInterrupt?.(inst) ?? false);
    const { stdout, stderr } = output.finish();
    // A soft stop (and so its error) exists only for guests that declare one.
    const error = guard.softStop
      ? guest.softStopError!(guard.softStop, executed)
      : interruptedAtEnd && outcome.kind === 'ok'
        ? guest.interruptedAtEnd!
        : guest.classify(executed, { capReached, limits, audit: audit.add });
    const usage = { fuel, memoryPeakBytes, wallMs };
    return this.result({ ok: error === null, stdout, stderr, error, usage, replaced, value: error ? null : channel.value(), audit: audit.toJSON() });
  }

  private result(report: RunReport): R {
    return this.guest.result ? this.guest.result(report) : (pythonResult(report) as R);
  }

  /**
   * A host-side exception outside the guarded guest call (e.g. while preparing it): the run ends as a
   * fault with a fresh instance, never as a rejection.
   */
  private faulted(inst: I, e: unknown, output: OutputCollector, started: number, audit: AuditTrail): R {
    let fuel = 0;
    try {
      fuel = inst.fuel.end();
    } catch {
      // the instance is beyond reading; its fuel is unknown
    }
    inst.hooks = idleHooks;
    this.instance = this.fresh();
    const { stdout, stderr } = output.finish();
    const message = `host error during the run: ${describeError(e)}`;
    const usage = { fuel, memoryPeakBytes: inst.memoryPeakBytes, wallMs: monotonicMs() - started };
    const error: RunErrorReport = { kind: 'fault', type: 'SandboxFault', message, traceback: null };
    return this.result({ ok: false, stdout, stderr, error, usage, replaced: true, value: null, audit: audit.toJSON() });
  }

  /** Releases the instance; during a run (from a host callback), at the run's end. */
  dispose(): void {
    if (this.running) {
      this.disposeAfterRun = true;
      return;
    }
    this.instance?.release();
    this.instance = null;
    this.parked = null;
  }
}
