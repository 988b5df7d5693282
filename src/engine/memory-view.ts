// Typed access to a guest's linear memory. Views are made per call because growth detaches buffers.
export class GuestMemory {
  constructor(private readonly memory: WebAssembly.Memory) {}

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }
  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }
  u32(ptr: number): number {
    return new DataView(this.memory.buffer).getUint32(ptr, true);
  }
  i32(ptr: number): number {
    return new DataView(this.memory.buffer).getInt32(ptr, true);
  }
  setU32(ptr: number, value: number): void {
    new DataView(this.memory.buffer).setUint32(ptr, value, true);
  }
  setI32(ptr: number, value: number): void {
    new DataView(this.memory.buffer).setInt32(ptr, value, true);
  }
  utf8(ptr: number, len: number): string {
    return decoder.decode(this.bytes(ptr, len));
  }
  /** A NUL-terminated string starting at ptr (bounded by the end of memory). */
  cString(ptr: number): string {
    const all = new Uint8Array(this.memory.buffer);
    let end = ptr;
    while (end < all.length && all[end] !== 0) end++;
    return decoder.decode(all.subarray(ptr, end));
  }
  grow(pages: number): boolean {
    try {
      this.memory.grow(pages);
      return true;
    } catch {
      return false;
    }
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });
