// An interpreter's hooks between runs: it cannot execute then, but any stray output is dropped rather
// than leaked, and a host call is answered with an error in the channel's reply format.
import { systemClock, systemRandomU32, type HostHooks } from '../../engine/host.js';

/** Between runs the guest cannot execute, but any stray output is dropped rather than leaked. */
export const idleHooks: HostHooks = {
  stdout: () => {},
  stderr: () => {},
  clock: systemClock,
  randomU32: systemRandomU32,
  memoryLimitBytes: 0,
  sleep: () => {},
  hostCall: () => '{"error":["RuntimeError","the sandbox is not running"]}',
};
