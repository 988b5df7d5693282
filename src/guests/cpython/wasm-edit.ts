// A byte-level edit of the CPython module, made when it is loaded: its memory becomes an import and
// its data segments go. The interpreter's initial memory is the build's baked image (state-file.ts),
// which already holds that data, so the engine writes it once instead of the module on every
// instantiation, and a memory can be recycled from one interpreter to the next (memory.ts).
import { HOST_IMPORT_MODULE, MEMORY_IMPORT } from '../../engine/abi.js';
import { readUleb, uleb, wasmName, wasmSection } from '../../engine/wasm-binary.js';

const SECTION = { import: 2, memory: 5, dataCount: 12, data: 11 } as const;
const IMPORT_KIND_MEMORY = 0x02;

export interface MemoryLimits {
  initialPages: number;
  maximumPages: number;
}

/** The module with its one defined memory turned into HOST_IMPORT_MODULE.MEMORY_IMPORT, and no data. */
export function importMemoryWithoutData(bytes: Uint8Array): { bytes: Uint8Array<ArrayBuffer>; limits: MemoryLimits } {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let limits: MemoryLimits | null = null;
  let memoryLimitBytes: Uint8Array | null = null;
  const sections: { id: number; payload: Uint8Array }[] = [];
  for (let at = 8; at < bytes.length; ) {
    const id = bytes[at];
    const size = readUleb(bytes, at + 1);
    sections.push({ id, payload: bytes.subarray(size.next, size.next + size.value) });
    at = size.next + size.value;
  }
  const memory = sections.find((s) => s.id === SECTION.memory);
  if (!memory) throw new Error('pyfence: the CPython module defines no memory');
  {
    const p = memory.payload;
    const count = readUleb(p, 0);
    if (count.value !== 1) throw new Error('pyfence: the CPython module must define exactly one memory');
    const flags = p[count.next];
    if (flags !== 1) throw new Error(`pyfence: unexpected memory limits flags ${flags}`);
    const min = readUleb(p, count.next + 1);
    const max = readUleb(p, min.next);
    limits = { initialPages: min.value, maximumPages: max.value };
    memoryLimitBytes = p.subarray(count.next, max.next);
  }
  if (sections.some((s) => s.id === SECTION.import) === false) throw new Error('pyfence: the CPython module has no imports');
  for (const s of sections) {
    if (s.id === SECTION.memory) continue;
    if (s.id === SECTION.import) {
      const count = readUleb(s.payload, 0);
      const entry = [...wasmName(HOST_IMPORT_MODULE), ...wasmName(MEMORY_IMPORT), IMPORT_KIND_MEMORY, ...memoryLimitBytes!];
      const payload = new Uint8Array([...uleb(count.value + 1), ...s.payload.subarray(count.next), ...entry]);
      parts.push(wasmSection(s.id, payload));
    } else if (s.id === SECTION.dataCount || s.id === SECTION.data) {
      parts.push(wasmSection(s.id, uleb(0)));
    } else {
      // Kept as it is: its header, then a view of its payload (copied once, into `out` below).
      parts.push(new Uint8Array([s.id, ...uleb(s.payload.length)]), s.payload);
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { bytes: out, limits: limits! };
}
