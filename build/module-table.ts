// Finds the interpreter's builtin-module tables in the baked image, so each sandbox can hide the
// modules its import policy denies. The binary has no symbols: the tables are found by their content.
// MicroPython's builtin-module maps are constant arrays of (key, value) words where the key is a
// qstr object ((qstr << 3) | 2) and the value points at a module object in static data. The running
// interpreter tells us every module's name (help('modules')) and its object's address (id()); each
// static word equal to such an address, preceded by a qstr-shaped word, is a table entry.
import type { EngineInstance } from '../src/guests/micropython/instance.js';
import { execSource } from '../src/guests/micropython/interpreter.js';

export interface ModuleTableEntry {
  name: string;
  /** Address of the entry's key word. */
  keyAddress: number;
  /** The key's original value (a qstr object). */
  key: number;
}

const QSTR_TAG_MASK = 7;
const QSTR_TAG = 2;

/** Must be found, or the policy could not deny them (the defaults). */
const REQUIRED = ['uctypes', 'js', 'jsffi'];

function runCapturing(inst: EngineInstance, code: string): string {
  let out = '';
  const decoder = new TextDecoder();
  const hooks = inst.hooks;
  inst.hooks = { ...hooks, stdout: (b) => (out += decoder.decode(b, { stream: true })) };
  const outcome = execSource(inst, code);
  inst.hooks = hooks;
  if (outcome.kind !== 'ok') throw new Error(`module-table: probe failed: ${JSON.stringify(outcome)}`);
  return out;
}

/**
 * `dataEnd`: the end of the module's initialised static data. Imports modules in `inst`: call it
 * only after the image to bake has been captured.
 */
export function findModuleTable(inst: EngineInstance, image: Uint8Array, dataEnd: number): ModuleTableEntry[] {
  const listing = runCapturing(inst, "help('modules')");
  const names = [...new Set(listing.split(/\s+/).filter((w) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(w)))].filter(
    (n) => !['Plus', 'any', 'modules', 'on', 'the', 'filesystem'].includes(n),
  );
  // The prelude's import wrapper refuses the default-denied names: bypass it for the probe.
  const probe = `
try:
    imp = __pyfence__.original_import
except NameError:
    imp = __import__
for n in ${JSON.stringify(names)}:
    try:
        print(n, id(imp(n)))
    except Exception:
        pass`;
  const ids = new Map<number, string>();
  for (const line of runCapturing(inst, probe).trim().split('\n')) {
    const [name, id] = line.split(' ');
    if (Number(id) < dataEnd) ids.set(Number(id), name); // builtin modules live in static data
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const entries: ModuleTableEntry[] = [];
  for (let a = 4; a + 4 <= dataEnd; a += 4) {
    const name = ids.get(view.getUint32(a, true));
    if (!name) continue;
    const key = view.getUint32(a - 4, true);
    if ((key & QSTR_TAG_MASK) === QSTR_TAG) entries.push({ name, keyAddress: a - 4, key });
  }
  for (const required of REQUIRED) {
    if (!entries.some((e) => e.name === required)) throw new Error(`module-table: no table entry found for '${required}'`);
  }
  // The entries must form a few dense tables (the builtin and the extensible module maps), not
  // scattered words: entries of one table are 8 bytes apart.
  const tables = entries.filter((e, i) => i === 0 || e.keyAddress - entries[i - 1].keyAddress > 64).length;
  if (tables > 3) throw new Error(`module-table: entries scattered over ${tables} places: ${JSON.stringify(entries)}`);
  return entries;
}
