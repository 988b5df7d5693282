// The Python engines a server may enable, and how they are named to its callers (schemas, tool
// descriptions, results). Kept free of heavy imports so the CLI can read the defaults cheaply.
import type { Engine } from '../../api/options.js';
import { UsageError } from '../../core/errors.js';

export type { Engine };

export const ENGINES: readonly Engine[] = ['micropython', 'cpython'];

/** `pyfence mcp` runs CPython unless told otherwise: models write CPython. */
export const DEFAULT_MCP_ENGINE: Engine = 'cpython';

/** What a caller is told about each engine: its name and version, and what differs from python3. */
export const ENGINE_INFO: Record<Engine, { label: string; notes: string }> = {
  cpython: { label: 'CPython 3.14', notes: 'the standard library as python3 has it (no subprocess, threads or sockets)' },
  micropython: {
    label: 'MicroPython 1.27',
    notes:
      'a small Python 3 dialect, not CPython: dict iteration order is not insertion order; much of the standard library is ' +
      'missing or reduced (no numpy/pandas, fewer functions in re, json, collections, itertools); some builtins and str ' +
      'methods are missing; exception messages are shorter',
  },
};

export function engineLabel(engine: Engine): string {
  return ENGINE_INFO[engine].label;
}

/**
 * The engines a server enables: `list` if given (checked), else `fallback` alone. The first is the
 * default for requests that name none.
 */
export function enabledEngines(list: readonly string[] | undefined, fallback: Engine): Engine[] {
  if (list === undefined || list.length === 0) return [fallback];
  const engines: Engine[] = [];
  for (const name of list) {
    if (!(ENGINES as readonly string[]).includes(name)) throw new UsageError(`unknown engine "${name}" (known: ${ENGINES.join(', ')})`);
    if (!engines.includes(name as Engine)) engines.push(name as Engine);
  }
  return engines;
}
