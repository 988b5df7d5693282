// A generated module for warming the instrumenting worker up (worker-entry.ts): V8 runs the rewriter
// in its interpreter until it has seen enough of it, which made the first module of a fresh worker
// several times slower than the next. The module exercises what real code has: straight runs of
// loads and arithmetic, blocks, if/else, loops with br_if, br_table, direct and indirect calls,
// memory.grow and memory.fill. It is valid, never run, and made the same every time.
import { ByteWriter, uleb } from '../engine/wasm-binary.js';

const I32 = 0x7f;

/** A module of `functions` functions (each ~350 bytes of code), of type (i32) -> i32. */
export function warmupModule(functions: number): Uint8Array {
  const w = new ByteWriter();
  w.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, fill: (s: ByteWriter) => void) => {
    const s = new ByteWriter();
    fill(s);
    w.section(id, s.view());
  };
  section(1, (s) => s.bytes([1, 0x60, 1, I32, 1, I32])); // type 0: (i32) -> i32
  section(3, (s) => {
    s.uleb(functions);
    for (let f = 0; f < functions; f++) s.byte(0);
  });
  section(4, (s) => s.bytes([1, 0x70, 0, 1])); // a funcref table of 1
  section(5, (s) => s.bytes([1, 0, 1])); // memory: 1 page, no maximum
  section(10, (s) => {
    s.uleb(functions);
    const body = new ByteWriter();
    for (let f = 0; f < functions; f++) {
      body.length = 0;
      body.bytes([1, 1, I32]); // one i32 local besides the parameter
      for (let j = 0; j < 12; j++) {
        // local1 = local1 * c + i32.load offset=4j (local0)
        body.bytes([0x20, 1, 0x41]);
        body.sleb32(f * 61 + j);
        body.bytes([0x6c, 0x20, 0, 0x28, 2, ...uleb(j * 4), 0x6a, 0x21, 1]);
      }
      // if local0 { call f+1 (local0 - 1); drop } else { call_indirect 0 (local0) ; drop }
      body.bytes([0x20, 0, 0x04, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x10, ...uleb((f + 1) % functions), 0x1a]);
      body.bytes([0x05, 0x20, 0, 0x20, 0, 0x11, 0, 0, 0x1a, 0x0b]);
      // block { block { br_table 0 1 (local1) } } ; loop { br_if 0 (i32.eqz local1) }
      body.bytes([0x02, 0x40, 0x02, 0x40, 0x20, 1, 0x0e, 1, 0, 1, 0x0b, 0x0b]);
      body.bytes([0x03, 0x40, 0x20, 1, 0x45, 0x0d, 0, 0x0b]);
      // memory.fill (0, local1, 0); memory.grow 0; drop; return local1
      body.bytes([0x41, 0, 0x20, 1, 0x41, 0, 0xfc, 0x0b, 0, 0x41, 0, 0x40, 0, 0x1a, 0x20, 1, 0x0f, 0x0b]);
      s.uleb(body.length);
      s.span(body.view(), 0, body.length);
    }
  });
  return w.result();
}
