// MicroPython's import policy: builtin (C) modules are denied inside the interpreter's own lookup.
// Each sandbox's copy of the builtin-module tables has the denied entries' keys replaced by a qstr no
// name can produce, so `import`, `__import__`, importlib-style helpers, `sys.modules` edits and
// `u`-prefixed aliases all miss them. Only a raw memory write could undo that, and the one module
// that gives the guest such writes, uctypes, is denied by default. The message "module 'X' is not
// allowed in this sandbox" comes from the prelude's import wrapper.
import type { ModuleVariant } from '../../engine/abi.js';
import type { EngineInstance } from './instance.js';
import { loadSandboxModule } from './module.js';

/** The string a qstr object with qstr 0 (MP_QSTRnull) is: no import can look it up. */
const UNNAMEABLE_KEY = 2;

/** Writes this sandbox's policy into its copy of the builtin-module tables (all entries, both ways). */
export function applyImportPolicy(inst: EngineInstance, variant: ModuleVariant, denied: readonly string[]): void {
  for (const entry of loadSandboxModule(variant).moduleTable) {
    inst.memory.setU32(entry.keyAddress, denied.includes(entry.name) ? UNNAMEABLE_KEY : entry.key);
  }
}
