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
