// The import policy: which modules the guest may import, resolved from the options against each
// engine's defaults. MicroPython enforces it in its builtin-module tables
// (src/guests/micropython/import-table.ts); CPython denies in the guest
// (src/guests/cpython/guest/_pyfence.py).
import { UsageError } from '../core/errors.js';

export interface ImportPolicy {
  /** Modules denied on top of the defaults. */
  deny?: string[];
  /** Modules denied by default that this sandbox may import (e.g. uctypes for trusted code). */
  allow?: string[];
}

/** Raw memory access (uctypes) and the JS bridge modules, which reach nothing here anyway. */
export const DEFAULT_DENIED = ['uctypes', 'js', 'jsffi'] as const;
/** The sandbox's own Python uses these; denying them would leave references behind. */
const REQUIRED = new Set(['sys', 'builtins', 'os', 'json', 'binascii', 'micropython', '__main__']);

/** An engine's import defaults: what is denied unless allowed, and what cannot be denied. */
export interface EngineImports {
  denied: readonly string[];
  required: ReadonlySet<string>;
}

export const MICROPYTHON_IMPORTS: EngineImports = { denied: DEFAULT_DENIED, required: REQUIRED };

/**
 * CPython: Pyodide's JS bridge and ctypes, whose host functions pyfence does not provide (allowing
 * one only moves the refusal to the first of them it calls). Required: what the sandbox's runner and
 * CPython's import machinery use.
 */
export const CPYTHON_IMPORTS: EngineImports = {
  denied: ['_ctypes', '_pyodide', '_pyodide_core', 'ctypes', 'js', 'micropip', 'pyodide', 'pyodide_js'],
  required: new Set([
    ...REQUIRED, 'encodings', 'codecs', '_codecs', 'io', '_io', 'importlib', 'zipimport', '_imp', '_frozen_importlib',
    '_frozen_importlib_external', 'marshal', 'posix', '_thread', '_warnings', '_weakref', 'signal', '_signal',
    'traceback', 'linecache', 'types', '_pyfence', '_pyfence_bridge',
  ]),
};

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function names(what: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !MODULE_NAME.test(v))) {
    throw new UsageError(`imports.${what} must be an array of module names`);
  }
  return value;
}

/** The denied module names, sorted. */
export function resolveImportPolicy(policy: unknown, engine: EngineImports = MICROPYTHON_IMPORTS): string[] {
  if (policy === undefined) return [...engine.denied].sort();
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new UsageError("imports must be an object: { deny?: ['name'], allow?: ['uctypes'] }");
  }
  for (const key of Object.keys(policy)) {
    if (key !== 'deny' && key !== 'allow') throw new UsageError(`unknown imports option "${key}" (known: deny, allow)`);
  }
  const p = policy as ImportPolicy;
  const deny = names('deny', p.deny);
  const allow = names('allow', p.allow);
  for (const name of deny) {
    if (engine.required.has(name)) throw new UsageError(`imports.deny: '${name}' is needed by the sandbox itself and cannot be denied`);
    if (allow.includes(name)) throw new UsageError(`imports: '${name}' is both denied and allowed`);
  }
  return [...new Set([...engine.denied, ...deny])].filter((n) => !allow.includes(n)).sort();
}
