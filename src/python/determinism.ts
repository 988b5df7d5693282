// Deterministic mode: time and randomness that depend only on the program. The clock starts at a
// fixed instant and advances with fuel (and with sleeps, which do not wait), random numbers come from
// a seeded generator. Same code, grants and seed: the same output and the same fuel, every time.
import type { Clock } from '../engine/host.js';

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
  private elapsedMs = 0; // before the current run
  private sleptMs = 0; // in the current run
  private fuelUsed: () => number = () => 0;

  constructor(private readonly startMs: number) {}

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
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
