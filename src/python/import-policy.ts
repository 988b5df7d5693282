// The import policy: which modules the guest may import. Builtin (C) modules are denied inside the
// interpreter's own lookup: each sandbox's copy of the builtin-module tables has the denied entries'
// keys replaced by a qstr no name can produce, so `import`, `__import__`, importlib-style helpers,
// `sys.modules` edits and `u`-prefixed aliases all miss them. Only a raw memory write could undo
// that, and the one module that gives the guest such writes, uctypes, is denied by default. The
// message "module 'X' is not allowed in this sandbox" comes from the prelude's import wrapper.
import type { ModuleVariant } from '../engine/abi.js';
import type { EngineInstance } from '../engine/instance.js';
import { loadSandboxModule } from '../engine/module.js';
import { UsageError } from './errors.js';

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
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function names(what: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !MODULE_NAME.test(v))) {
    throw new UsageError(`imports.${what} must be an array of module names`);
  }
  return value;
}

/** The denied module names, sorted. */
export function resolveImportPolicy(policy: unknown): string[] {
  if (policy === undefined) return [...DEFAULT_DENIED].sort();
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
    if (REQUIRED.has(name)) throw new UsageError(`imports.deny: '${name}' is needed by the sandbox itself and cannot be denied`);
    if (allow.includes(name)) throw new UsageError(`imports: '${name}' is both denied and allowed`);
  }
  return [...new Set([...DEFAULT_DENIED, ...deny])].filter((n) => !allow.includes(n)).sort();
}

/** The string a qstr object with qstr 0 (MP_QSTRnull) is: no import can look it up. */
const UNNAMEABLE_KEY = 2;

/** Writes this sandbox's policy into its copy of the builtin-module tables (all entries, both ways). */
export function applyImportPolicy(inst: EngineInstance, variant: ModuleVariant, denied: readonly string[]): void {
  for (const entry of loadSandboxModule(variant).report.bake.moduleTable) {
    inst.memory.setU32(entry.keyAddress, denied.includes(entry.name) ? UNNAMEABLE_KEY : entry.key);
  }
}
