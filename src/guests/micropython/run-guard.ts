// The run guard (src/engine/run-guard.ts) of a MicroPython instance: its soft stop is MicroPython's
// scheduled KeyboardInterrupt.
import { RunGuard, type GuardLimits } from '../../engine/run-guard.js';
import type { EngineInstance } from './instance.js';

/** Fuel and time allowed after a soft stop before the hard stop. */
export const GRACE = { fuel: 20_000_000, ms: 100 };

export function micropythonGuard(inst: EngineInstance, limits: GuardLimits, started: number, interrupt?: Int32Array): RunGuard {
  const guest = {
    requestStop: () => inst.call((e) => e.mp_sched_keyboard_interrupt()),
    grantFuel: (units: number) => inst.fuel.grant(units),
  };
  return new RunGuard(guest, limits, started, GRACE, interrupt);
}

export type { RunGuard };
