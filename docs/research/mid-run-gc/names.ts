// The prototype's name-section writer became build/gc/stack-pointer-name.ts; the research scripts
// use that one (withGlobalName) so there is one copy of the encoding.
export { withGlobalName } from '../../../build/gc/stack-pointer-name.js';

/** Index in the global index space of a binaryen global named global$N (binaryen's default names). */
export function globalIndexOf(name: string): number {
  const m = /^global\$(\d+)$/.exec(name);
  if (!m) throw new Error(`unexpected global name ${name}`);
  return Number(m[1]);
}
