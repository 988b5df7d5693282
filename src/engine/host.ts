// What the engine asks of its embedder. The engine knows wasm, not Python policy: every decision
// (where output goes, what time it is, how much memory may be used) comes through this interface.
import { monotonicMs } from '../core/clock.js';
import type { AuditSink } from '../core/audit.js';
import type { Clock } from '../core/determinism.js';

/** Largest host-channel request read from guest memory, in bytes: larger ones are refused unread. */
export const HOST_REQUEST_MAX_BYTES = 16 * 1024 * 1024;

export type { Clock };

export interface HostHooks {
  stdout(bytes: Uint8Array): void;
  stderr(bytes: Uint8Array): void;
  clock: Clock;
  randomU32(): number;
  /** Hard cap on the whole linear memory, in bytes. Growth past it is refused. */
  memoryLimitBytes: number;
  /** `time.sleep`: wait (or advance a virtual clock) for `ms`; may throw HostStop at the deadline. */
  sleep(ms: number): void;
  /**
   * The host channel: one request string from the guest, one reply string back (the Python layer
   * defines both). `null`: the guest sent more than HOST_REQUEST_MAX_BYTES, which is not read.
   * May block; may throw HostStop at the deadline.
   */
  hostCall(request: string | null): string;
  /** Told of each refusal worth auditing (a file operation the VFS refused); absent: not recorded. */
  refused?: AuditSink;
  /** Set only by the build's baking hooks: lets the prelude capture the host channel. */
  revealHostChannel?: boolean;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/**
 * Blocks the thread without spinning. With `wake` (a cell another thread sets to non-zero), the sleep
 * ends early when it is set.
 */
export function blockingSleep(ms: number, wake: Int32Array = sleepCell): void {
  if (ms > 0) Atomics.wait(wake, 0, 0, ms);
}

export const systemClock: Clock = {
  ticksMs: monotonicMs,
  timeMs: () => Date.now(),
};

const randomPool = new Uint32Array(256);
let randomNext = randomPool.length;
export function systemRandomU32(): number {
  if (randomNext === randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomNext = 0;
  }
  return randomPool[randomNext++];
}
