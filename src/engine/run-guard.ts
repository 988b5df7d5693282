// A run's fuel and deadline, for any guest that can be asked to stop itself. First a soft stop: the
// guest is asked to stop (the interpreters raise KeyboardInterrupt) and given a small grace budget, so
// `finally` blocks run and the guest stays usable. A guest that ignores it, or a loop that never
// checks, gets the hard stop: a HostStop thrown through the guest, which discards the instance. An
// interrupt from another thread (a worker sandbox's `interrupt()`) asks the guest the same way. A
// guest that cannot be asked (a WebAssembly module) gets the hard stop at once.
import { monotonicMs } from '../core/clock.js';
import { blockingSleep } from './host.js';
import type { FuelPolicy } from './fuel.js';
import { HostStop } from './stop.js';

export interface GuardLimits {
  fuel: number;
  timeoutMs: number;
}

/** Fuel and time allowed after a soft stop before the hard stop. */
export interface Grace {
  fuel: number;
  ms: number;
}

/** What the guard needs of the guest. */
export interface StoppableGuest {
  /** Asks the guest to stop at its next safe point (KeyboardInterrupt for the interpreters). */
  requestStop(): void;
  /** Fuel past the limit, for the grace period. */
  grantFuel(units: number): void;
}

export class RunGuard implements FuelPolicy {
  /** Set once the soft stop has been issued. */
  softStop: { reason: 'fuel' | 'timeout'; message: string } | null = null;
  /** Set once an interrupt from another thread has been passed to the guest. */
  interrupted = false;
  private readonly deadline: number;
  private graceDeadline = Infinity;

  /**
   * `guest` and `grace` null: no soft stop. `interrupt`: a cell another thread sets to 1 (and
   * notifies) to interrupt the guest (Ctrl-C). `describe`: the stop's words, where the guest has its own.
   */
  constructor(
    private readonly guest: StoppableGuest | null,
    private readonly limits: GuardLimits,
    started: number,
    private readonly grace: Grace | null,
    private readonly interrupt?: Int32Array,
    private readonly describe?: (reason: 'fuel' | 'timeout') => string,
  ) {
    this.deadline = started + limits.timeoutMs;
  }

  checkpoint(): void {
    if (this.interrupt && Atomics.exchange(this.interrupt, 0, 0) !== 0) {
      this.interrupted = true;
      this.guest?.requestStop();
    }
    const now = monotonicMs();
    if (now >= this.graceDeadline) this.hardStop();
    // Once soft-stopped, the grace period decides: a second limit would end it at once.
    if (now >= this.deadline && this.softStop === null) this.limitHit('timeout');
  }

  exhausted(): void {
    this.limitHit('fuel');
  }

  /** How long the guest may still wait on the host (sleep, host calls) before a stop is due. */
  waitBudgetMs(): number {
    return Math.max(0, Math.min(this.deadline, this.graceDeadline) - monotonicMs());
  }

  /** A sleep of the guest: without spinning, never past the deadline; an interrupt ends it at once. */
  readonly sleep = (ms: number): void => {
    blockingSleep(Math.min(ms, this.waitBudgetMs()), this.interrupt);
    this.checkpoint();
  };

  private limitHit(reason: 'fuel' | 'timeout'): void {
    if (this.softStop) this.hardStop();
    const message =
      this.describe?.(reason) ??
      (reason === 'fuel' ? `fuel limit of ${this.limits.fuel} units exhausted` : `time limit of ${this.limits.timeoutMs} ms exceeded`);
    if (!this.guest || !this.grace) throw new HostStop(reason, message);
    this.softStop = { reason, message };
    this.graceDeadline = monotonicMs() + this.grace.ms;
    this.guest.grantFuel(this.grace.fuel);
    this.guest.requestStop();
  }

  private hardStop(): never {
    const stop = this.softStop!;
    throw new HostStop(stop.reason, stop.message);
  }
}
