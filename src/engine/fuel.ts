// The host side of fuel metering. The guest decrements a wasm global and calls `exhausted()` when it
// goes negative; the meter hands out fuel in slices so that the host gets a regular checkpoint (for
// the deadline) and counts exactly what was used, independent of slicing: same program, same fuel.

/** Units per slice: the host is consulted about every this many units (a few ms of CPU). */
export const FUEL_SLICE = 1 << 20;
/** Given to nested calls into the guest made while the host handles an exhaustion. */
const CUSHION = 1 << 30;

export interface FuelPolicy {
  /** Called at every slice boundary; may throw to stop the guest. */
  checkpoint(): void;
  /** Called when the budget is used up: throw to stop, or `grant()` more. */
  exhausted(): void;
}

export class FuelMeter {
  private given = CUSHION; // value last written to the global
  private usedUnits = 0;
  private limit = Infinity;
  private policy: FuelPolicy | null = null;

  constructor(private readonly global: WebAssembly.Global | null) {
    if (global) global.value = CUSHION;
  }

  /** Starts counting a run with a budget (Infinity for none). */
  begin(limit: number, policy: FuelPolicy): void {
    this.usedUnits = 0;
    this.limit = limit;
    this.policy = policy;
    this.refill();
  }

  /** Stops counting; host-initiated calls between runs (malloc, free) are free. */
  end(): number {
    this.account();
    const used = this.usedUnits;
    this.policy = null;
    this.limit = Infinity;
    this.setGlobal(CUSHION);
    return used;
  }

  /** Units used so far in the current run. */
  used(): number {
    this.account();
    return this.usedUnits;
  }

  /** Extends the current run's budget (e.g. a grace period after a soft stop). */
  grant(units: number): void {
    this.limit = this.usedUnits + units;
  }

  /**
   * Counts host work done for the guest (a syscall's listing, copying) as fuel, and checks the
   * deadline: a guest that makes the host work hard pays for it and is stopped on time. Called after
   * the work's effects are in place, since the policy may stop the guest here.
   */
  charge(units: number): void {
    if (!(units > 0) || !this.policy) return;
    this.account();
    this.usedUnits += Math.ceil(units);
    this.policy.checkpoint();
    this.account();
    if (this.usedUnits >= this.limit) {
      this.policy.exhausted();
      this.account();
    }
    this.refill();
  }

  /** The import the guest calls when the counter goes negative. */
  exhausted(): void {
    this.account();
    this.setGlobal(CUSHION);
    if (this.policy) {
      this.policy.checkpoint();
      this.account();
      if (this.usedUnits >= this.limit) {
        this.policy.exhausted();
        this.account();
        if (this.usedUnits >= this.limit) throw new Error('fuel policy neither stopped nor granted fuel');
      }
    }
    this.refill();
  }

  private account(): void {
    if (!this.global) return;
    const now = this.global.value as number;
    this.usedUnits += this.given - now;
    this.given = now;
  }

  private refill(): void {
    const room = this.limit - this.usedUnits;
    this.setGlobal(this.policy ? Math.max(0, Math.min(FUEL_SLICE, room)) : CUSHION);
  }

  private setGlobal(value: number): void {
    if (!this.global) return;
    this.global.value = value;
    this.given = value;
  }
}
