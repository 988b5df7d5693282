// Sandbox options: validated once, with clear errors, and merged with safe defaults.
import { UsageError } from './errors.js';

export interface Limits {
  /** Fuel units (deterministic CPU metering) per run; Infinity for none. Default about 10 s of CPU. */
  fuel?: number;
  /** Wall-clock time per run, in ms, including time.sleep; Infinity for none. Default 10 s. */
  timeoutMs?: number;
  /** Cap on the interpreter's whole linear memory, in bytes. Default 64 MiB. */
  memoryBytes?: number;
  /** Cap on stdout + stderr of one run, in bytes. Default 1 MiB. */
  outputBytes?: number;
}

export type Isolation = 'inline' | 'worker';

export interface SandboxOptions {
  limits?: Limits;
  /**
   * 'inline' (default) runs the interpreter on the calling thread. 'worker' runs it in a worker
   * thread that a watchdog terminates if the in-wasm stop ever fails, at the cost of a slower start.
   */
  isolation?: Isolation;
}

export type ResolvedLimits = Required<Limits>;

export const DEFAULT_LIMITS: Required<Limits> = {
  fuel: 20_000_000_000,
  timeoutMs: 10_000,
  memoryBytes: 64 * 1024 * 1024,
  outputBytes: 1024 * 1024,
};

const MIN_MEMORY_BYTES = 2 * 1024 * 1024; // the initialised interpreter needs about 1.2 MiB
const MAX_MEMORY_BYTES = 2 ** 31; // the module's own maximum

function checkKeys(what: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new UsageError(`unknown ${what} option "${key}" (known: ${allowed.join(', ')})`);
  }
}

function positiveInteger(name: string, value: unknown, min: number, max: number, unlimited = false): number {
  if (unlimited && value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const inf = unlimited ? ' (or Infinity)' : '';
    throw new UsageError(`${name} must be an integer from ${min} to ${max}${inf}, got ${String(value)}`);
  }
  return value;
}

export function resolveLimits(base: Required<Limits>, limits: Limits | undefined): Required<Limits> {
  if (limits === undefined) return base;
  if (typeof limits !== 'object' || limits === null) throw new UsageError('limits must be an object');
  checkKeys('limits', limits, Object.keys(DEFAULT_LIMITS));
  return {
    fuel: limits.fuel === undefined ? base.fuel : positiveInteger('limits.fuel', limits.fuel, 1, 2 ** 53, true),
    timeoutMs:
      limits.timeoutMs === undefined
        ? base.timeoutMs
        : positiveInteger('limits.timeoutMs', limits.timeoutMs, 1, 2 ** 31, true),
    memoryBytes:
      limits.memoryBytes === undefined
        ? base.memoryBytes
        : positiveInteger('limits.memoryBytes', limits.memoryBytes, MIN_MEMORY_BYTES, MAX_MEMORY_BYTES),
    outputBytes:
      limits.outputBytes === undefined
        ? base.outputBytes
        : positiveInteger('limits.outputBytes', limits.outputBytes, 0, 2 ** 40),
  };
}

export function resolveSandboxOptions(options: SandboxOptions | undefined): { limits: ResolvedLimits; isolation: Isolation } {
  if (options === undefined) return { limits: DEFAULT_LIMITS, isolation: 'inline' };
  if (typeof options !== 'object' || options === null) throw new UsageError('options must be an object');
  checkKeys('sandbox', options, ['limits', 'isolation']);
  const isolation = options.isolation ?? 'inline';
  if (isolation !== 'inline' && isolation !== 'worker') {
    throw new UsageError(`isolation must be 'inline' or 'worker', got ${String(isolation)}`);
  }
  return { limits: resolveLimits(DEFAULT_LIMITS, options.limits), isolation };
}
