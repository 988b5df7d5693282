// binaryen's spill-pointers pass finds the C stack pointer only by its name, `__stack_pointer`, and
// this binary has no name section. This appends one (subsection 7, global names) naming that global.
import binaryen from 'binaryen';
import { stackPointerGlobal } from '../wasm-inspect.js';
import { uleb, wasmName, wasmSection } from '../../src/engine/wasm-binary.js';

export const STACK_POINTER_NAME = '__stack_pointer';

/** `bytes` with a name section appended naming global `index` (subsection 7, global names). */
export function withGlobalName(bytes: Uint8Array, index: number, globalName: string): Uint8Array {
  const entries = [...uleb(1), ...uleb(index), ...wasmName(globalName)];
  const payload = [...wasmName('name'), 7, ...uleb(entries.length), ...entries];
  const section = wasmSection(0, payload);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}

/** The input with a name section naming its stack pointer global; refuses a binary that has names. */
export function nameStackPointer(input: Uint8Array): Uint8Array {
  const probe = binaryen.readBinary(input);
  const global = stackPointerGlobal(probe);
  probe.dispose();
  const index = /^global\$(\d+)$/.exec(global);
  if (!index) throw new Error(`the stack pointer already has a name (${global}): unexpected input`);
  return withGlobalName(input, Number(index[1]), STACK_POINTER_NAME);
}
