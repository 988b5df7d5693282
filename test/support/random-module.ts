// Random valid modules that always end, for the metering property test: functions (i32) -> i32 made
// of nested loops (bounded by counters), blocks with forward branches, if/else, br_table, early
// returns, tail calls, direct and indirect calls to later functions, bounded self-recursion (a
// depth global), memory.fill/copy and table.copy with random lengths. Export "run" is function 0.
import { ByteWriter } from '../../src/engine/wasm-binary.js';

type Rand = () => number;

export function makeRand(seed: number): Rand {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const I32 = 0x7f;
const MAX_LOCALS = 8;

export function randomModule(seed: number): Uint8Array {
  const rand = makeRand(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const functions = 1 + int(6);
  const w = new ByteWriter();
  w.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, fill: (p: ByteWriter) => void) => {
    const p = new ByteWriter();
    fill(p);
    w.section(id, p.view());
  };
  section(1, (p) => p.bytes([1, 0x60, 1, I32, 1, I32])); // type 0: (i32) -> i32
  section(3, (p) => {
    p.uleb(functions);
    for (let i = 0; i < functions; i++) p.uleb(0);
  });
  section(4, (p) => {
    p.bytes([1, 0x70, 0x00]);
    p.uleb(functions * 2);
  }); // table: funcref, min 2n
  section(5, (p) => p.bytes([1, 0x00, 1])); // memory: 1 page
  section(6, (p) => p.bytes([1, I32, 0x01, 0x41, 0x00, 0x0b])); // global 0: recursion depth
  section(7, (p) => {
    p.uleb(2);
    p.bytes([3, ...new TextEncoder().encode('run'), 0x00, 0x00]);
    p.bytes([6, ...new TextEncoder().encode('memory'), 0x02, 0x00]);
  });
  section(9, (p) => {
    p.bytes([1, 0x00, 0x41, 0x00, 0x0b]); // active, table 0, offset 0
    p.uleb(functions);
    for (let i = 0; i < functions; i++) p.uleb(i);
  });
  section(10, (p) => {
    p.uleb(functions);
    for (let f = 0; f < functions; f++) {
      const body = new ByteWriter();
      body.bytes([1, MAX_LOCALS, I32]);
      functionBody(body, f, functions, int);
      body.byte(0x20); // local.get 0: the result
      body.byte(0x00);
      body.byte(0x0b);
      p.uleb(body.length);
      p.append(body);
    }
  });
  return w.result();
}

function functionBody(b: ByteWriter, self: number, functions: number, int: (n: number) => number): void {
  let nextLocal = 1;
  let budget = 40; // statements per function
  const c = (v: number) => {
    b.byte(0x41);
    b.sleb32(v);
  };
  const get = (l: number) => b.bytes([0x20, l]);
  const set = (l: number) => b.bytes([0x21, l]);
  const later = () => self + 1 + int(functions - self - 1);
  // `labels`: the enclosing labels, innermost last (a branch never targets a loop: that could run forever).
  const statement = (depth: number, labels: string[]): void => {
    if (budget-- <= 0) return;
    const choice = int(depth > 3 ? 4 : 14);
    switch (choice) {
      case 0: // arithmetic on the accumulator
      case 1:
        get(0);
        c(int(1000) - 500);
        b.byte([0x6a, 0x6c, 0x73, 0x6b][int(4)]); // add, mul, xor, sub
        set(0);
        break;
      case 2: // memory.fill / memory.copy, random length (charged per byte by the meter)
        c(int(4096));
        if (int(2)) {
          c(int(256));
          c(int(60000));
          b.bytes([0xfc, 11, 0x00]);
        } else {
          c(int(4096));
          c(int(60000));
          b.bytes([0xfc, 10, 0x00, 0x00]);
        }
        break;
      case 3: // select and a store
        c(int(100)); // the address
        get(0);
        c(int(7));
        get(0);
        b.byte(0x1b); // select
        b.bytes([0x36, 0x02, 0x00]); // i32.store
        c(int(100));
        get(0);
        b.bytes([0x36, 0x02, 0x04]);
        break;
      case 4:
      case 5: {
        // a counted loop
        if (nextLocal >= MAX_LOCALS) return statement(depth, labels);
        const counter = nextLocal++;
        c(1 + int(3)); // 1..3 iterations (counted down to 0): nested in calls and recursion, work multiplies
        set(counter);
        b.bytes([0x03, 0x40]);
        const n = 1 + int(3);
        for (let i = 0; i < n; i++) statement(depth + 1, [...labels, 'loop']);
        get(counter);
        c(1);
        b.byte(0x6b);
        b.bytes([0x22, counter, 0x0d, 0x00]); // local.tee, br_if 0
        b.byte(0x0b);
        break;
      }
      case 6: {
        // a block left early by a conditional branch
        b.bytes([0x02, 0x40]);
        const inner = [...labels, 'block'];
        statement(depth + 1, inner);
        get(0);
        c(3);
        const targets = inner.map((k, i) => (k === 'loop' ? -1 : inner.length - 1 - i)).filter((d) => d >= 0);
        b.bytes([0x71, 0x0d, targets[int(targets.length)]]); // i32.and, br_if to this block or an outer one
        statement(depth + 1, inner);
        b.byte(0x0b);
        break;
      }
      case 7: // if / else
        get(0);
        c(1);
        b.bytes([0x71, 0x04, 0x40]);
        statement(depth + 1, [...labels, 'block']);
        b.byte(0x05);
        statement(depth + 1, [...labels, 'block']);
        b.byte(0x0b);
        break;
      case 8: // br_table over three nested blocks
        b.bytes([0x02, 0x40, 0x02, 0x40, 0x02, 0x40]);
        get(0);
        c(3);
        b.bytes([0x71, 0x0e, 2, 0, 1, 2]);
        b.byte(0x0b);
        statement(depth + 1, [...labels, 'block', 'block']);
        b.byte(0x0b);
        statement(depth + 1, [...labels, 'block']);
        b.byte(0x0b);
        break;
      case 9: // an early return, sometimes a tail call
        get(0);
        c(15);
        b.bytes([0x71, 0x45, 0x04, 0x40]); // i32.and, i32.eqz, if
        get(0);
        c(7);
        b.byte(0x6a);
        if (self + 1 < functions && int(2)) {
          b.byte(0x12);
          b.uleb(later());
        } else b.byte(0x0f);
        b.byte(0x0b);
        break;
      case 10: // a direct call to a later function
        if (self + 1 >= functions) return statement(depth, labels);
        get(0);
        b.byte(0x10);
        b.uleb(later());
        set(0);
        break;
      case 11: // an indirect call to a later function
        if (self + 1 >= functions) return statement(depth, labels);
        get(0);
        c(later());
        b.bytes([0x11, 0x00, 0x00]);
        set(0);
        break;
      case 12: // bounded self-recursion through the depth global
        b.bytes([0x23, 0x00]);
        c(2);
        b.bytes([0x49, 0x04, 0x40]); // i32.lt_u, if
        b.bytes([0x23, 0x00]);
        c(1);
        b.bytes([0x6a, 0x24, 0x00]);
        get(0);
        c(1);
        b.byte(0x6a);
        b.byte(0x10);
        b.uleb(self);
        set(0);
        b.bytes([0x23, 0x00]);
        c(1);
        b.bytes([0x6b, 0x24, 0x00]);
        b.byte(0x0b);
        break;
      case 13: // table.copy within the table's empty upper half (calls keep their targets)
        c(functions + int(Math.ceil(functions / 2)));
        c(functions + int(Math.ceil(functions / 2)));
        c(int(Math.floor(functions / 2) + 1));
        b.bytes([0xfc, 14, 0x00, 0x00]);
        break;
    }
  };
  while (budget > 0) statement(0, []);
}
