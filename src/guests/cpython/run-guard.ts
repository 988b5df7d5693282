// The run guard (src/engine/run-guard.ts) of a CPython instance: its soft stop is PyErr_SetInterrupt,
// which raises KeyboardInterrupt at CPython's next eval-loop check (the runner installs Python's
// default SIGINT handler, which an embedded interpreter lacks).
import { RunGuard, type GuardLimits } from '../../engine/run-guard.js';
import type { CPythonInstance } from './instance.js';

/** Fuel and time allowed after a soft stop before the hard stop. */
export const GRACE = { fuel: 50_000_000, ms: 200 };

export function cpythonGuard(inst: CPythonInstance, limits: GuardLimits, started: number, interrupt?: Int32Array): RunGuard {
  const guest = {
    requestStop: () => inst.call((e) => e.PyErr_SetInterrupt()),
    grantFuel: (units: number) => inst.fuel.grant(units),
  };
  return new RunGuard(guest, limits, started, GRACE, interrupt);
}
