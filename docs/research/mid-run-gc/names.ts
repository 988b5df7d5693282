// Appends a custom "name" section naming one global (subsection 7: global names), so binaryen
// (getStackPointerGlobal looks for a global named __stack_pointer) can find the C stack pointer.
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}
export function withGlobalName(bytes: Uint8Array, globalIndex: number, name: string): Uint8Array {
  const entries = [...uleb(1), ...uleb(globalIndex), ...str(name)];
  const sub = [7, ...uleb(entries.length), ...entries];
  const payload = [...str('name'), ...sub];
  const section = [0, ...uleb(payload.length), ...payload];
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}
/** Index in the global index space of a binaryen global named global$N (binaryen's default names). */
export function globalIndexOf(name: string): number {
  const m = /^global\$(\d+)$/.exec(name);
  if (!m) throw new Error(`unexpected global name ${name}`);
  return Number(m[1]);
}
