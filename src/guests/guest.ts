// The contract every guest implements for the one Session (src/session/session.ts): how to make a
// set-up instance, run a program in it, stop it softly (or declare it cannot), tell how a run ended,
// and capture its state (or declare it cannot). The Session does the rest, the same for every guest:
// the run guard, output, audit, clock, fuel, replacement after a hard stop, the interrupt drain and
// the dispose rule.
import type { Audit, AuditSink } from '../core/audit.js';
import type { Clock, Determinism, SeededRandom, VirtualClock } from '../core/determinism.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { RunUsage } from '../core/result.js';
import type { StopReason } from '../core/stop.js';
import type { FuelMeter } from '../engine/fuel.js';
import type { HostHooks } from '../engine/host.js';
import { RunGuard, type Grace, type GuardLimits } from '../engine/run-guard.js';
import type { VirtualFS } from '../vfs/vfs.js';
import type { ProgramSpec, ValueReport } from './python-common/program.js';
import type { RunErrorReport, RunResult } from './python-common/result.js';

/** How a guest is asked to stop itself, and how much fuel and time it then has before the hard stop. */
export interface SoftStop<I extends GuestInstance> {
  request(inst: I): void;
  grace: Grace;
}

/** What a limit stop says, where a guest words it its own way. */
export type StopMessage = (reason: 'fuel' | 'timeout', limits: GuardLimits) => string;

/**
 * The run guard (fuel, deadline, interrupts) of one run, or of a guest's own setup, in `inst`.
 * Without a soft stop, a limit is the hard stop at once.
 */
export function guardOf<I extends GuestInstance>(inst: I, softStop: SoftStop<I> | undefined, limits: GuardLimits, started: number, interrupt?: Int32Array, stopMessage?: StopMessage): RunGuard {
  const guest = softStop && { requestStop: () => softStop.request(inst), grantFuel: (units: number) => inst.fuel.grant(units) };
  return new RunGuard(guest ?? null, limits, started, softStop?.grace ?? null, interrupt, stopMessage && ((reason) => stopMessage(reason, limits)));
}

/** What the Session asks of an instance's fuel meter (engine/fuel.ts's FuelMeter, or a guest's wrapper of it). */
export type Fuel = Pick<FuelMeter, 'begin' | 'end' | 'used' | 'grant'>;

/** How one call into the guest ended. */
export type ExecOutcome =
  | { kind: 'ok' }
  | { kind: 'exception'; type: string; traceback: string }
  | { kind: 'exit'; status: number }
  | { kind: 'stopped'; reason: StopReason; message: string }
  | { kind: 'fault'; message: string };

/** What the Session needs of an instance, whichever the guest. */
export interface GuestInstance {
  hooks: HostHooks;
  readonly fuel: Fuel;
  readonly memoryPeakBytes: number;
  /** Whether the memory cap refused growth since the last resetMemoryPeak. */
  readonly memoryCapReached: boolean;
  resetMemoryPeak(): void;
  release(): void;
}

/** What stays the same across a session's instances: its time and randomness. */
export interface SessionClock {
  clock: Clock;
  randomU32(): number;
  /** Deterministic mode's clock and random source (null when not deterministic). */
  virtual: VirtualClock | null;
  seeded: SeededRandom | null;
}

/** The host channel of one run: host calls answered, the last expression's value kept. */
export interface RunChannel {
  hostCall(request: string | null): string;
  value(): ValueReport | null;
}

/** A program as the guest ran it: `wrapped` when its first traceback frame is the runner's call. */
export interface Executed {
  outcome: ExecOutcome;
  wrapped: boolean;
}

/** What the Session gathered of one run, for the guest's result. */
export interface RunReport {
  ok: boolean;
  stdout: string;
  stderr: string;
  error: RunErrorReport | null;
  usage: RunUsage;
  /** The instance was discarded (a hard stop or fault): the next run starts in a fresh one. */
  replaced: boolean;
  value: ValueReport | null;
  audit: Audit;
}

/**
 * One guest, configured for one session. `S` is the state it captures (fork) and restores from,
 * `P` what a run is given besides its code, `R` the run's result. Every method runs on the session's
 * thread, between or during its runs. A guest without `softStop` declares the hard stop only.
 */
export interface Guest<I extends GuestInstance = GuestInstance, S = unknown, P = ProgramSpec, R = RunResult> {
  /** The session's files: with a restored session's (`restored`), or anew for a pool's next run. */
  files(restored?: S): VirtualFS;
  /** Where a restored session's clock and random source were (absent: they start afresh). */
  resumed?(state: S, determinism: Determinism): { elapsedMs: number; randomState: number | undefined };
  /** A set-up instance over `vfs`: fresh, or continuing `restored` (set up within `limits`). */
  instantiate(vfs: VirtualFS, clock: SessionClock, restored?: { state: S; limits?: ResolvedLimits }): I;
  /** The soft stop: the guest's own KeyboardInterrupt, and the grace it gets before the hard stop. */
  readonly softStop?: SoftStop<I>;
  /** The words of a fuel or time stop, where the guest has its own (absent: the guard's). */
  readonly stopMessage?: StopMessage;
  /** Metering off (the unmetered build's watchdog tests): the run is not metered at all. */
  readonly unmetered?: boolean;
  /** The host channel for one run; refusals go to `audit`, time in the host to `guard`. */
  channel(guard: RunGuard, audit: AuditSink): RunChannel;
  exec(inst: I, code: string, program: P): Executed;
  /** After the run, before the instance is idle: drop what the run left in the host. */
  afterRun?(inst: I): void;
  /** Takes an interrupt still pending at the end of a run; true if there was one (with a soft stop). */
  drainInterrupt?(inst: I): boolean;
  /** The error of a run the guard did not stop softly; null for success. */
  classify(executed: Executed, run: { capReached: boolean; limits: ResolvedLimits; audit: AuditSink }): RunErrorReport | null;
  /** The error of a soft stop: the limit, with the traceback of where it stopped (with a soft stop). */
  softStopError?(stop: NonNullable<RunGuard['softStop']>, executed: Executed): RunErrorReport;
  /** The error of a run that ended just as it was interrupted (with a soft stop). */
  readonly interruptedAtEnd?: RunErrorReport;
  /** The run's result as the guest's callers take it (absent: a Python RunResult). */
  result?(report: RunReport): R;
  /** Readies a renewed instance for a pool's next run. */
  warm?(inst: I): void;
  /** The state between runs, for an in-process copy (a guest without snapshots throws UsageError). */
  capture(inst: I, vfs: VirtualFS, clock: SessionClock): S;
  /** The state between runs as snapshot bytes, unsigned (a guest without snapshots throws UsageError). */
  snapshot(inst: I, vfs: VirtualFS, clock: SessionClock): Uint8Array;
  /**
   * Hibernation: the state an idle instance continues from later in this process, or null when it
   * holds what the state cannot carry (open files). Absent: the guest's sessions stay awake.
   */
  park?(inst: I, vfs: VirtualFS, clock: SessionClock): S | null;
  /** An instance continuing what `park` gave: the same memory and globals, byte for byte, no setup run. */
  wake?(vfs: VirtualFS, clock: SessionClock, state: S): I;
}
