// A byte-level edit of the CPython module, made when it is loaded: its memory becomes an import and
// its data segments go. The interpreter's initial memory is the build's baked image (state-file.ts),
// which already holds that data, so the engine writes it once instead of the module on every
// instantiation, and a memory can be recycled from one interpreter to the next (memory-pool.ts).
// Made from the file itself: the sections kept are read straight into the edited module, and the
// data section (megabytes) is never read, so loading maps one copy of the module, not two.
import { HOST_IMPORT_MODULE, MEMORY_IMPORT } from '../../engine/abi.js';
import { readUleb, uleb, wasmName, wasmSection } from '../../engine/wasm-binary.js';
import type { ByteSource } from './byte-source.js';

const SECTION = { import: 2, memory: 5, dataCount: 12, data: 11 } as const;
const IMPORT_KIND_MEMORY = 0x02;
/** A section's header: its id and a u32 size (at most 5 LEB128 bytes). */
const SECTION_HEAD_BYTES = 6;
const PREAMBLE_BYTES = 8;

export interface MemoryLimits {
  initialPages: number;
  maximumPages: number;
}

interface Section {
  id: number;
  /** Where its header and its payload start in the source. */
  at: number;
  payloadAt: number;
  length: number;
}

function readSections(source: ByteSource): Section[] {
  const head = new Uint8Array(SECTION_HEAD_BYTES);
  const sections: Section[] = [];
  for (let at = PREAMBLE_BYTES; at < source.size; ) {
    const n = Math.min(SECTION_HEAD_BYTES, source.size - at);
    head.fill(0);
    source.read(head, 0, at, n);
    const size = readUleb(head, 1);
    const payloadAt = at + size.next;
    if (size.next > n || payloadAt + size.value > source.size) throw new Error('pyfence: the CPython module is truncated');
    sections.push({ id: head[0], at, payloadAt, length: size.value });
    at = payloadAt + size.value;
  }
  return sections;
}

function payloadOf(source: ByteSource, s: Section): Uint8Array {
  const out = new Uint8Array(s.length);
  source.read(out, 0, s.payloadAt, s.length);
  return out;
}

/** The module with its one defined memory turned into HOST_IMPORT_MODULE.MEMORY_IMPORT, and no data. */
export function importMemoryWithoutData(source: ByteSource): { bytes: Uint8Array<ArrayBuffer>; limits: MemoryLimits } {
  const sections = readSections(source);
  const memory = sections.find((s) => s.id === SECTION.memory);
  if (!memory) throw new Error('pyfence: the CPython module defines no memory');
  const p = payloadOf(source, memory);
  const count = readUleb(p, 0);
  if (count.value !== 1) throw new Error('pyfence: the CPython module must define exactly one memory');
  const flags = p[count.next];
  if (flags !== 1) throw new Error(`pyfence: unexpected memory limits flags ${flags}`);
  const min = readUleb(p, count.next + 1);
  const max = readUleb(p, min.next);
  const limits = { initialPages: min.value, maximumPages: max.value };
  const memoryLimitBytes = p.subarray(count.next, max.next);
  if (!sections.some((s) => s.id === SECTION.import)) throw new Error('pyfence: the CPython module has no imports');

  // What the output is made of: bytes made here, or a range of the source copied as it is.
  const parts: (Uint8Array | Section)[] = [];
  for (const s of sections) {
    if (s.id === SECTION.memory) continue;
    if (s.id === SECTION.import) {
      const imports = payloadOf(source, s);
      const n = readUleb(imports, 0);
      const entry = [...wasmName(HOST_IMPORT_MODULE), ...wasmName(MEMORY_IMPORT), IMPORT_KIND_MEMORY, ...memoryLimitBytes];
      parts.push(wasmSection(s.id, new Uint8Array([...uleb(n.value + 1), ...imports.subarray(n.next), ...entry])));
    } else if (s.id === SECTION.dataCount || s.id === SECTION.data) {
      parts.push(wasmSection(s.id, uleb(0)));
    } else {
      parts.push(s);
    }
  }
  const sizeOf = (part: Uint8Array | Section) => (part instanceof Uint8Array ? part.length : part.payloadAt - part.at + part.length);
  const out = new Uint8Array(PREAMBLE_BYTES + parts.reduce((n, part) => n + sizeOf(part), 0));
  source.read(out, 0, 0, PREAMBLE_BYTES);
  let at = PREAMBLE_BYTES;
  for (const part of parts) {
    if (part instanceof Uint8Array) out.set(part, at);
    else source.read(out, at, part.at, sizeOf(part));
    at += sizeOf(part);
  }
  return { bytes: out, limits };
}
