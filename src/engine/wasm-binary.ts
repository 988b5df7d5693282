// The pieces of the wasm binary format that byte-level edits need (the CPython module's memory edit,
// the build's name section): unsigned LEB128 and names, and a section with its header.

/** An unsigned LEB128 number at `at`, and where the next field starts. */
export function readUleb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let byte = bytes[at++];
  let value = byte & 0x7f;
  for (let shift = 7; byte & 0x80; shift += 7) {
    byte = bytes[at++];
    // Shifts up to 28 bits: V8's interpreter makes `2 ** shift` a heap number, and every position
    // computed from it after that (a module's first rewrite ran on boxed doubles). Past 28, exact.
    value = shift < 28 ? value | ((byte & 0x7f) << shift) : value + (byte & 0x7f) * 2 ** shift;
  }
  return { value, next: at };
}

/** `value` (a non-negative integer, not only a u32) as unsigned LEB128. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

/** A name: its UTF-8 length, then its bytes. */
export function wasmName(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

/** A section: its id, its size, then `payload`. */
export function wasmSection(id: number, payload: Uint8Array | number[]): Uint8Array {
  const head = [id, ...uleb(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** Where the signed LEB128 number at `at` ends (its value is not needed by byte-level edits). */
export function skipLeb(bytes: Uint8Array, at: number): number {
  while (bytes[at++] & 0x80) if (at >= bytes.length) throw new RangeError('LEB128 number runs past the end');
  return at;
}

/** A signed LEB128 number (up to 32 bits) at `at`, and where the next field starts. */
export function readSleb32(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++];
    value |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80 && shift < 35);
  if (shift < 32 && byte & 0x40) value |= -1 << shift;
  return { value, next: at };
}

/** `value` (a 32-bit integer) as signed LEB128. */
export function sleb32(value: number): number[] {
  const out: number[] = [];
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A growable byte buffer for re-encoding a module: bytes, spans of another buffer, LEB128. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  /** `capacity`: the bytes it holds before it grows (growing copies). */
  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  bytes(bs: ArrayLike<number>): void {
    this.room(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
  }

  /** `src[from, to)`, copied without a temporary. */
  span(src: Uint8Array, from: number, to: number): void {
    this.room(to - from);
    if (to - from < 64) for (let i = from; i < to; i++) this.buf[this.length++] = src[i];
    else {
      this.buf.set(src.subarray(from, to), this.length);
      this.length += to - from;
    }
  }

  /** Appends another writer's bytes. */
  append(other: ByteWriter): void {
    this.room(other.length);
    this.buf.set(other.buf.subarray(0, other.length), this.length);
    this.length += other.length;
  }

  uleb(value: number): void {
    this.room(10);
    do {
      let byte = value & 0x7f;
      value = Math.floor(value / 128);
      if (value) byte |= 0x80;
      this.buf[this.length++] = byte;
    } while (value);
  }

  sleb32(value: number): void {
    this.room(5);
    value |= 0;
    for (;;) {
      const byte = value & 0x7f;
      value >>= 7;
      if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) {
        this.buf[this.length++] = byte;
        return;
      }
      this.buf[this.length++] = byte | 0x80;
    }
  }

  /** A copy of the bytes written. */
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written, without a copy (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A section: its id, its size, then `payload`. */
  section(id: number, payload: Uint8Array): void {
    this.byte(id);
    this.uleb(payload.length);
    this.span(payload, 0, payload.length);
  }
}

/** `value` (a 64-bit integer, as a BigInt; wrapped to 64 bits) as signed LEB128. */
export function sleb64(value: bigint): number[] {
  const out: number[] = [];
  value = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    if ((value === 0n && !(byte & 0x40)) || (value === -1n && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
