// Per-call limits may only narrow the server's own: a request can ask for less, never for more.
import { UsageError } from '../../core/errors.js';
import type { Limits, ResolvedLimits } from '../../core/limits.js';

const LIMIT_KEYS = ['fuel', 'timeoutMs', 'memoryBytes', 'outputBytes'] as const satisfies readonly (keyof Limits)[];

/**
 * The limits for one call: each one given must be at most the server's (Infinity only where the
 * server itself is unlimited). Values are range-checked later by the sandbox, with its own errors.
 */
export function narrowLimits(server: ResolvedLimits, requested: Limits | undefined): Limits | undefined {
  if (requested === undefined) return undefined;
  const narrowed: Limits = {};
  for (const key of LIMIT_KEYS) {
    const value = requested[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) throw new UsageError(`limits.${key} must be a number`);
    if (value > server[key]) throw new UsageError(`limits.${key} may not exceed the server's limit of ${server[key]}`);
    narrowed[key] = value;
  }
  return narrowed;
}
