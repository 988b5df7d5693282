// The limits of a run, for every engine: one type, one table of ranges and one resolver with one rule
// (an integer in the limit's range; Infinity only for fuel and time, the two that may be unbounded).
import { UsageError } from './errors.js';

export interface Limits {
  /** Fuel units (deterministic CPU metering) per run; Infinity for none. Default 2e10: about 1-3 s of CPU by engine (README, limits). */
  fuel?: number;
  /** Wall-clock time per run, in ms, including sleeps; Infinity for none. Default 10 s. */
  timeoutMs?: number;
  /** Cap on the guest's whole linear memory, in bytes. Default 64 MiB. */
  memoryBytes?: number;
  /** Cap on stdout + stderr of one run, in bytes. Default 1 MiB. */
  outputBytes?: number;
  /** WebAssembly modules only: cap on table elements (function pointers). Default 100,000. */
  tableElements?: number;
  /** WebAssembly modules only: bytes the guest may add to each rw mount and to the in-memory files. Default 64 MiB. */
  writeQuotaBytes?: number;
}

export type LimitKey = keyof Limits;

/** The limits every engine has (a module adds tableElements and writeQuotaBytes). */
export const RUN_LIMIT_KEYS = ['fuel', 'timeoutMs', 'memoryBytes', 'outputBytes'] as const satisfies readonly LimitKey[];
export type RunLimitKey = (typeof RUN_LIMIT_KEYS)[number];

/** Every engine's limits, resolved. */
export type ResolvedLimits = Required<Pick<Limits, RunLimitKey>>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  fuel: 20_000_000_000,
  timeoutMs: 10_000,
  memoryBytes: 64 * 1024 * 1024,
  outputBytes: 1024 * 1024,
};

/** The accepted values of a limit: integers from `min` to `max`, and Infinity when `unlimited`. */
export interface LimitRange {
  min: number;
  max: number;
  unlimited: boolean;
}

export type LimitRanges = Record<LimitKey, LimitRange>;

/** What any guest accepts; an engine may narrow a range (an interpreter needs a minimum of memory). */
export const LIMIT_RANGES: LimitRanges = {
  fuel: { min: 1, max: 2 ** 53, unlimited: true },
  timeoutMs: { min: 1, max: 2 ** 31, unlimited: true },
  memoryBytes: { min: 0, max: 2 ** 32, unlimited: false }, // 65,536 pages of 64 KiB: all wasm32 can address
  outputBytes: { min: 0, max: 2 ** 40, unlimited: false },
  tableElements: { min: 0, max: 2 ** 32 - 1, unlimited: false },
  writeQuotaBytes: { min: 0, max: 2 ** 53, unlimited: false },
};

function checkedLimit(key: LimitKey, value: unknown, { min, max, unlimited }: LimitRange): number {
  if (unlimited && value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const inf = unlimited ? ' (or Infinity)' : '';
    throw new UsageError(`limits.${key} must be an integer from ${min} to ${max}${inf}, got ${String(value)}`);
  }
  return value;
}

/**
 * `base` with the given limits in place of its own. The keys of `base` are the limits the engine has:
 * any other key is refused by name, as is a value outside its range.
 */
export function resolveLimits<R extends Partial<Record<LimitKey, number>>>(base: R, limits: Limits | undefined, ranges: LimitRanges = LIMIT_RANGES): R {
  if (limits === undefined) return base;
  if (typeof limits !== 'object' || limits === null) throw new UsageError('limits must be an object');
  const known = Object.keys(base) as LimitKey[];
  for (const key of Object.keys(limits)) {
    if (!(known as string[]).includes(key)) throw new UsageError(`unknown limits option "${key}" (known: ${known.join(', ')})`);
  }
  const resolved = { ...base };
  for (const key of known) {
    const value = limits[key];
    if (value !== undefined) (resolved as Partial<Record<LimitKey, number>>)[key] = checkedLimit(key, value, ranges[key]);
  }
  return resolved;
}
