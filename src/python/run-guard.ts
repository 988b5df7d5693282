// Enforces a run's fuel and deadline. First a soft stop: KeyboardInterrupt is raised in the guest with
// a small grace budget, so `finally` blocks run and the interpreter stays usable. Code that swallows
// it, or a C loop that never checks for it, gets the hard stop: a HostStop thrown through the guest.
import { blockingSleep } from '../engine/host.js';
import type { FuelPolicy } from '../engine/fuel.js';
import type { EngineInstance } from '../guests/micropython/instance.js';
import { HostStop, type StopReason } from '../engine/stop.js';

/** Fuel and time allowed after a soft stop before the hard stop. */
export const GRACE_FUEL = 20_000_000;
export const GRACE_MS = 100;

export interface GuardLimits {
  fuel: number;
  timeoutMs: number;
}

export class RunGuard implements FuelPolicy {
  /** Set once the soft stop has been issued. */
  softStop: { reason: 'fuel' | 'timeout'; message: string } | null = null;
  /** Set once an interrupt from another thread has been raised in the guest. */
  interrupted = false;
  private readonly deadline: number;
  private graceDeadline = Infinity;

  /** `interrupt`: a cell another thread sets to 1 to raise KeyboardInterrupt in the guest (Ctrl-C). */
  constructor(
    private readonly inst: EngineInstance,
    private readonly limits: GuardLimits,
    started: number,
    private readonly interrupt?: Int32Array,
  ) {
    this.deadline = started + limits.timeoutMs;
  }

  checkpoint(): void {
    if (this.interrupt && Atomics.exchange(this.interrupt, 0, 0) !== 0) {
      this.interrupted = true;
      this.inst.call((e) => e.mp_sched_keyboard_interrupt());
    }
    const now = performance.now();
    if (now >= this.graceDeadline) this.hardStop();
    if (now >= this.deadline) this.limitHit('timeout');
  }

  exhausted(): void {
    this.limitHit('fuel');
  }

  /** How long the guest may still wait on the host (sleep, host calls) before a stop is due. */
  waitBudgetMs(): number {
    return Math.max(0, Math.min(this.deadline, this.graceDeadline) - performance.now());
  }

  /** `time.sleep(ms)`: sleeps without spinning, but never past the deadline. */
  readonly sleep = (ms: number): void => {
    const now = performance.now();
    const limit = Math.min(this.deadline, this.graceDeadline);
    if (now + ms < limit) {
      blockingSleep(ms, this.interrupt);
      if (this.interrupt && Atomics.load(this.interrupt, 0) !== 0) this.checkpoint();
      return;
    }
    blockingSleep(Math.max(0, limit - now), this.interrupt);
    this.checkpoint();
  };

  private limitHit(reason: 'fuel' | 'timeout'): void {
    if (this.softStop) this.hardStop();
    const message =
      reason === 'fuel'
        ? `fuel limit of ${this.limits.fuel} units exhausted`
        : `time limit of ${this.limits.timeoutMs} ms exceeded`;
    this.softStop = { reason, message };
    this.graceDeadline = performance.now() + GRACE_MS;
    this.inst.fuel.grant(GRACE_FUEL);
    this.inst.call((e) => e.mp_sched_keyboard_interrupt());
  }

  private hardStop(): never {
    const stop = this.softStop!;
    throw new HostStop(stop.reason as StopReason, stop.message);
  }
}
