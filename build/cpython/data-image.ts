// Reading the initial contents of the module's linear memory from its active data segments (the
// module has no names for its data: things are found by the text or the words they hold).
import { readSleb32 } from '../../src/engine/wasm-binary.js';
import { Cursor, readSections, SectionId } from '../../src/instrument/sections.js';

/** An active data segment: its bytes and where they go. */
interface Segment {
  address: number;
  bytes: Buffer;
}

function* activeSegments(input: Uint8Array): Generator<Segment> {
  for (const section of readSections(input, true).sections) {
    if (section.id !== SectionId.Data) continue;
    const c = new Cursor(input, section.start, section.end);
    for (let n = c.u32(); n > 0; n--) {
      const flags = c.u32();
      let address = NaN; // a passive segment (flags 1) has no address
      if (flags === 0 && input[c.at] === 0x41 /* i32.const */) {
        const offset = readSleb32(input, c.at + 1);
        address = offset.value;
        c.at = offset.next + 1; // end
      } else if (flags !== 1) throw new Error(`cpython: data segment flags ${flags}`);
      const length = c.u32();
      if (!Number.isNaN(address)) yield { address, bytes: Buffer.from(input.buffer, input.byteOffset + c.at, length) };
      c.at += length;
    }
  }
}

/** The address of `text` (NUL-terminated) in the module's active data; throws unless found once. */
export function dataAddress(input: Uint8Array, text: string): number {
  const needle = Buffer.from(text + '\0');
  const found: number[] = [];
  for (const { address, bytes } of activeSegments(input)) {
    for (let k = bytes.indexOf(needle); k !== -1; k = bytes.indexOf(needle, k + 1)) found.push(address + k);
  }
  if (found.length !== 1) throw new Error(`cpython: ${JSON.stringify(text)} is in the data ${found.length} times, not once`);
  return found[0];
}

/** The little-endian u32 at `address` of the initial memory (the segments leave out runs of zeros). */
export function dataWord(input: Uint8Array, address: number): number {
  const word = Buffer.alloc(4);
  for (const { address: at, bytes } of activeSegments(input)) {
    for (let k = Math.max(address, at); k < Math.min(address + 4, at + bytes.length); k++) word[k - address] = bytes[k - at];
  }
  return word.readUInt32LE(0);
}
