// The contract every interpreter guest implements for the one Session (src/session/session.ts): how
// to make a set-up instance, run a program in it, stop it softly, tell how a run ended, and capture
// its state. The Session does the rest, the same for every guest: the run guard, output, audit,
// clock, fuel, replacement after a hard stop, the interrupt drain and the dispose rule.
import type { AuditSink } from '../core/audit.js';
import type { Clock, Determinism, SeededRandom, VirtualClock } from '../core/determinism.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { StopReason } from '../core/stop.js';
import type { FuelMeter } from '../engine/fuel.js';
import type { HostHooks } from '../engine/host.js';
import { RunGuard, type Grace, type GuardLimits } from '../engine/run-guard.js';
import type { VirtualFS } from '../vfs/vfs.js';
import type { ProgramSpec, ValueReport } from './python-common/program.js';
import type { RunErrorReport } from './python-common/result.js';

/** How a guest is asked to stop itself, and how much fuel and time it then has before the hard stop. */
export interface SoftStop<I extends GuestInstance> {
  request(inst: I): void;
  grace: Grace;
}

/** The run guard (fuel, deadline, interrupts) of one run, or of a guest's own setup, in `inst`. */
export function guardOf<I extends GuestInstance>(inst: I, softStop: SoftStop<I>, limits: GuardLimits, started: number, interrupt?: Int32Array): RunGuard {
  const guest = { requestStop: () => softStop.request(inst), grantFuel: (units: number) => inst.fuel.grant(units) };
  return new RunGuard(guest, limits, started, softStop.grace, interrupt);
}

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
  readonly fuel: FuelMeter;
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

/**
 * One interpreter guest, configured for one session. `S` is the state it captures (fork) and
 * restores from. Every method runs on the session's thread, between or during its runs.
 */
export interface Guest<I extends GuestInstance = GuestInstance, S = unknown> {
  /** The session's files: with a restored session's (`restored`), or anew for a pool's next run. */
  files(restored?: S): VirtualFS;
  /** Where a restored session's clock and random source were (absent: they start afresh). */
  resumed?(state: S, determinism: Determinism): { elapsedMs: number; randomState: number | undefined };
  /** A set-up instance over `vfs`: fresh, or continuing `restored` (set up within `limits`). */
  instantiate(vfs: VirtualFS, clock: SessionClock, restored?: { state: S; limits?: ResolvedLimits }): I;
  /** The soft stop: the guest's own KeyboardInterrupt, and the grace it gets before the hard stop. */
  readonly softStop: SoftStop<I>;
  /** Metering off (the unmetered build's watchdog tests): the run is not metered at all. */
  readonly unmetered?: boolean;
  /** The host channel for one run; refusals go to `audit`, time in the host to `guard`. */
  channel(guard: RunGuard, audit: AuditSink): RunChannel;
  exec(inst: I, code: string, program: ProgramSpec): Executed;
  /** After the run, before the instance is idle: drop what the run left in the host. */
  afterRun?(inst: I): void;
  /** Takes an interrupt still pending at the end of a run; true if there was one. */
  drainInterrupt(inst: I): boolean;
  /** The error of a run the guard did not stop softly; null for success. */
  classify(executed: Executed, run: { capReached: boolean; limits: ResolvedLimits; audit: AuditSink }): RunErrorReport | null;
  /** The error of a soft stop: the limit, with the traceback of where it stopped. */
  softStopError(stop: NonNullable<RunGuard['softStop']>, executed: Executed): RunErrorReport;
  /** The error of a run that ended just as it was interrupted. */
  readonly interruptedAtEnd: RunErrorReport;
  /** Readies a renewed instance for a pool's next run. */
  warm?(inst: I): void;
  /** The state between runs, for an in-process copy. */
  capture(inst: I, vfs: VirtualFS, clock: SessionClock): S;
  /** The state between runs as snapshot bytes (unsigned). */
  snapshot(inst: I, vfs: VirtualFS, clock: SessionClock): Uint8Array;
}
