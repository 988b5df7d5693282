// Deterministic mode: time and randomness that depend only on the program. The clock starts at a
// fixed instant and advances with fuel (and with sleeps, which do not wait), random numbers come from
// a seeded generator. Same code, grants and seed: the same output and the same fuel, every time.

export interface Clock {
  /** Monotonic milliseconds, wrapped to u32 by the caller. */
  ticksMs(): number;
  /** Wall-clock milliseconds since the epoch. */
  timeMs(): number;
}

export interface Determinism {
  /** Where the clock starts, in ms since the epoch. */
  fixedMs: number | null;
  /** Seed of the random source. */
  seed: number | null;
}

/** Fuel units per virtual millisecond: about the rate the metered interpreter burns fuel. */
export const FUEL_PER_VIRTUAL_MS = 2_000_000;

/** A clock that moves with fuel used and virtual sleeps, carried over from run to run. */
export class VirtualClock implements Clock {
  private sleptMs = 0; // in the current run
  private fuelUsed: () => number = () => 0;

  /** `elapsedMs`: virtual time already passed (a restored session's clock goes on from there). */
  constructor(
    readonly startMs: number,
    private elapsedMs = 0,
  ) {}

  /** Virtual time passed before the current run. */
  get elapsedBeforeRunMs(): number {
    return this.elapsedMs;
  }

  beginRun(fuelUsed: () => number): void {
    this.fuelUsed = fuelUsed;
    this.sleptMs = 0;
  }

  endRun(): void {
    this.elapsedMs = this.nowElapsed();
    this.sleptMs = 0;
    this.fuelUsed = () => 0;
  }

  sleep(ms: number): void {
    this.sleptMs += ms;
  }

  ticksMs(): number {
    return Math.floor(this.nowElapsed());
  }

  timeMs(): number {
    return this.startMs + this.nowElapsed();
  }

  private nowElapsed(): number {
    return this.elapsedMs + this.sleptMs + this.fuelUsed() / FUEL_PER_VIRTUAL_MS;
  }
}

/** splitmix32: small, fast, and every seed gives a full-period sequence. */
export function seededRandomU32(seed: number): () => number {
  return new SeededRandom(seed).next;
}

/** The seeded source with its position readable, so a restored session can go on from it. */
export class SeededRandom {
  /** `state`: where the sequence is (the seed at its start). */
  constructor(
    readonly seed: number,
    public state = seed >>> 0,
  ) {}

  readonly next = (): number => {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
