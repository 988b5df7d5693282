// The limit stops every engine shares: why the host ended a run, and the type name a result reports
// for each (the servers, the CLI and the guests all read these, never their own literals).

export type StopReason = 'fuel' | 'timeout' | 'memory' | 'output' | 'denied';

/** The `type` of a result's error for each stop. */
export const STOP_TYPE = {
  fuel: 'FuelExhausted',
  timeout: 'Timeout',
  memory: 'MemoryLimit',
  output: 'OutputLimit',
  denied: 'Denied',
} as const satisfies Record<StopReason, string>;

/**
 * Exceptions a Python guest raises when a limit was hit or a grant was missing, rather than for a bug
 * in the program: the kind each reports (next to the stops, so that every kind's mapping is here).
 */
const KIND_OF_PYTHON_TYPE: Readonly<Record<string, StopReason>> = { MemoryError: 'memory', PermissionError: 'denied' };

/** The stop a Python exception type means, or null for an exception of the program's own. */
export function stopOfPythonType(type: string): StopReason | null {
  return Object.hasOwn(KIND_OF_PYTHON_TYPE, type) ? KIND_OF_PYTHON_TYPE[type] : null;
}

/** A stop as a result's error: its reason as the kind, and its type name. */
export function stopInfo(reason: StopReason, message: string): { kind: StopReason; type: string; message: string } {
  return { kind: reason, type: STOP_TYPE[reason], message };
}

/** Thrown from a host import to unwind the guest immediately (a hard stop). */
export class HostStop extends Error {
  constructor(
    readonly reason: StopReason,
    message: string,
  ) {
    super(message);
    this.name = 'HostStop';
  }
}
