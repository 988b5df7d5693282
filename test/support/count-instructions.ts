// The oracle of the metering property test: a second rewrite, as simple as can be and independent of
// the meter's (src/instrument/meter.ts), that adds 1 to an i64 global before every instruction of
// every function (all but each function's final `end`) and exports it as COUNT_EXPORT. It only needs
// instruction boundaries (src/instrument/instructions.ts); it adds no import, so no index moves.
import { ByteWriter, readUleb } from '../../src/engine/wasm-binary.js';
import { decode, Kind, type Instr } from '../../src/instrument/instructions.js';
import { readSections, SectionId } from '../../src/instrument/sections.js';

export const COUNT_EXPORT = 'oracle_count';

/** `exceptions`: a trusted build's module, with exception handling (as meterTrustedBinary accepts). */
export function countInstructions(original: Uint8Array, exceptions = false): Uint8Array {
  const m = readSections(original, exceptions);
  const importedGlobals = m.imports.filter((i) => i.kind === 3).length;
  const section = (id: number) => m.sections.find((s) => s.id === id);
  const definedGlobals = section(SectionId.Global) ? readUleb(original, section(SectionId.Global)!.start).value : 0;
  const counter = importedGlobals + definedGlobals;
  const out = new ByteWriter();
  out.bytes(original.subarray(0, 8));
  const order = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
  for (const id of order) {
    const s = section(id);
    const payload = new ByteWriter();
    if (id === SectionId.Global) {
      const n = s ? readUleb(original, s.start) : { value: 0, next: 0 };
      payload.uleb(n.value + 1);
      if (s) payload.span(original, n.next, s.end);
      payload.bytes([0x7e, 0x01, 0x42, 0x00, 0x0b]); // (mut i64) (i64.const 0)
    } else if (id === SectionId.Export) {
      const n = s ? readUleb(original, s.start) : { value: 0, next: 0 };
      payload.uleb(n.value + 1);
      if (s) payload.span(original, n.next, s.end);
      const name = new TextEncoder().encode(COUNT_EXPORT);
      payload.uleb(name.length);
      payload.bytes(name);
      payload.byte(0x03);
      payload.uleb(counter);
    } else if (id === SectionId.Code && s) {
      countCode(original, s.start, s.end, counter, payload, exceptions);
    } else if (s) payload.span(original, s.start, s.end);
    else continue;
    out.section(id, payload.view());
  }
  return out.result();
}

function countCode(bytes: Uint8Array, start: number, end: number, counter: number, w: ByteWriter, exceptions: boolean): void {
  const n = readUleb(bytes, start);
  w.uleb(n.value);
  let at = n.next;
  const ins: Instr = { kind: Kind.Plain, imm: 0, next: 0, index: 0 };
  const body = new ByteWriter();
  for (let f = 0; f < n.value; f++) {
    const size = readUleb(bytes, at);
    const bodyEnd = size.next + size.value;
    at = size.next;
    const decls = readUleb(bytes, at);
    at = decls.next;
    for (let d = 0; d < decls.value; d++) at = readUleb(bytes, at).next + 1;
    body.length = 0;
    body.span(bytes, size.next, at);
    while (at < bodyEnd) {
      decode(bytes, at, ins, exceptions);
      if (ins.next < bodyEnd) {
        body.byte(0x23); // global.get
        body.uleb(counter);
        body.bytes([0x42, 0x01, 0x7c]); // i64.const 1, i64.add
        body.byte(0x24); // global.set
        body.uleb(counter);
      }
      body.span(bytes, at, ins.next);
      at = ins.next;
    }
    w.uleb(body.length);
    w.append(body);
  }
  if (at !== end) throw new Error('code section not fully read');
}
