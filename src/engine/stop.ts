// How a call into the guest can end other than by returning: the host stopped it on purpose (a limit),
// or it trapped. Either way the instance is left mid-call and must be discarded.
import { HostStop, type StopReason } from '../core/stop.js';

export { HostStop, type StopReason };

/** Thrown by an abort import: the guest's C code called abort(). The instance is broken afterwards. */
export class GuestAbort extends Error {
  constructor() {
    super('the interpreter called abort()');
  }
}

export type CallOutcome =
  | { kind: 'returned' }
  | { kind: 'stopped'; reason: StopReason; message: string }
  | { kind: 'fault'; message: string };

/**
 * Runs one call into the guest and classifies how it ended. Any other exception raised on the host
 * while the guest was running (a syscall given absurd arguments, a host bug) is a fault too: the
 * instance is mid-call and is discarded, and the caller gets a result rather than a rejection.
 */
export function guardedCall(call: () => void): CallOutcome {
  try {
    call();
    return { kind: 'returned' };
  } catch (e) {
    if (e instanceof HostStop) return { kind: 'stopped', reason: e.reason, message: e.message };
    if (e instanceof WebAssembly.RuntimeError) return { kind: 'fault', message: `wasm trap: ${e.message}` };
    if (e instanceof GuestAbort) return { kind: 'fault', message: e.message };
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return { kind: 'fault', message: 'stack overflow in the interpreter' };
    }
    return { kind: 'fault', message: `host error during a guest call: ${describeError(e)}` };
  }
}

/** Never throws: the thrown value may be anything, with a toString that throws. */
export function describeError(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'an exception that cannot be described';
  }
}
