// Fuel and deadline of one CPython run. First a soft stop: KeyboardInterrupt is raised in the guest
// (PyErr_SetInterrupt, checked by CPython's eval loop) with a small grace budget, so `finally` blocks
// run and the interpreter stays usable. Code that swallows it, or a C loop that never checks, gets the
// hard stop: a HostStop thrown through the guest, which discards the interpreter.
import { blockingSleep } from '../engine/host.js';
import type { FuelPolicy } from '../engine/fuel.js';
import { HostStop } from '../engine/stop.js';
import type { CPythonInstance } from './instance.js';

/** Fuel and time allowed after a soft stop before the hard stop. */
export const GRACE_FUEL = 50_000_000;
export const GRACE_MS = 200;

export interface GuardLimits {
  fuel: number;
  timeoutMs: number;
}

export class CPythonRunGuard implements FuelPolicy {
  softStop: { reason: 'fuel' | 'timeout'; message: string } | null = null;
  private readonly deadline: number;
  private graceDeadline = Infinity;

  constructor(
    private readonly inst: CPythonInstance,
    private readonly limits: GuardLimits,
    started: number,
  ) {
    this.deadline = started + limits.timeoutMs;
  }

  checkpoint(): void {
    const now = performance.now();
    if (now >= this.graceDeadline) this.hardStop();
    if (now >= this.deadline) this.limitHit('timeout');
  }

  exhausted(): void {
    this.limitHit('fuel');
  }

  /** How long the guest may still wait on the host (a host call) before a stop is due. */
  waitBudgetMs(): number {
    return Math.max(0, Math.min(this.deadline, this.graceDeadline) - performance.now());
  }

  /** Waits without spinning, but never past the deadline. */
  readonly sleep = (ms: number): void => {
    const limit = Math.min(this.deadline, this.graceDeadline);
    blockingSleep(Math.max(0, Math.min(ms, limit - performance.now())));
    this.checkpoint();
  };

  private limitHit(reason: 'fuel' | 'timeout'): void {
    if (this.softStop) this.hardStop();
    const message =
      reason === 'fuel' ? `fuel limit of ${this.limits.fuel} units exhausted` : `time limit of ${this.limits.timeoutMs} ms exceeded`;
    this.softStop = { reason, message };
    this.graceDeadline = performance.now() + GRACE_MS;
    this.inst.fuel.grant(GRACE_FUEL);
    this.inst.call((e) => e.PyErr_SetInterrupt());
  }

  private hardStop(): never {
    const stop = this.softStop!;
    throw new HostStop(stop.reason, stop.message);
  }
}
