// Fuel and deadline of one CPython run. First a soft stop: KeyboardInterrupt is raised in the guest
// (PyErr_SetInterrupt, checked by CPython's eval loop) with a small grace budget, so `finally` blocks
// run and the interpreter stays usable. Code that swallows it, or a C loop that never checks, gets the
// hard stop: a HostStop thrown through the guest, which discards the interpreter. An interrupt from
// another thread (a worker sandbox's `interrupt()`) raises KeyboardInterrupt the same way.
import { blockingSleep } from '../../engine/host.js';
import type { FuelPolicy } from '../../engine/fuel.js';
import { HostStop } from '../../engine/stop.js';
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
  /** Set once an interrupt from another thread has been raised in the guest. */
  interrupted = false;
  private readonly deadline: number;
  private graceDeadline = Infinity;

  constructor(
    private readonly inst: CPythonInstance,
    private readonly limits: GuardLimits,
    started: number,
    /** A cell another thread sets to 1 (and notifies) to raise KeyboardInterrupt in the guest. */
    private readonly interrupt?: Int32Array,
  ) {
    this.deadline = started + limits.timeoutMs;
  }

  checkpoint(): void {
    if (this.interrupt && Atomics.exchange(this.interrupt, 0, 0) !== 0) {
      this.interrupted = true;
      this.inst.call((e) => e.PyErr_SetInterrupt());
    }
    const now = performance.now();
    if (now >= this.graceDeadline) this.hardStop();
    // Past the deadline once soft-stopped, the grace period decides (a second limit would end it at once).
    if (now >= this.deadline && this.softStop === null) this.limitHit('timeout');
  }

  exhausted(): void {
    this.limitHit('fuel');
  }

  /** How long the guest may still wait on the host (sleep, host calls) before a stop is due. */
  waitBudgetMs(): number {
    return Math.max(0, Math.min(this.deadline, this.graceDeadline) - performance.now());
  }

  /** Waits without spinning, but never past the deadline; an interrupt ends the wait at once. */
  readonly sleep = (ms: number): void => {
    blockingSleep(Math.min(ms, this.waitBudgetMs()), this.interrupt);
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
