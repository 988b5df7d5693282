// Typed access to a guest's linear memory. Views are made per call because growth detaches buffers.
export class GuestMemory {
  constructor(private memory: WebAssembly.Memory | null) {}

  /**
   * Hands the memory over (for recycling) and leaves this view without one, so that nothing
   * holding the view can reach the memory's next owner. Returns null if already detached.
   */
  detach(): WebAssembly.Memory | null {
    if (this.memory === null) return null;
    const memory = this.memory;
    this.memory = null;
    return memory;
  }

  private get buffer(): ArrayBuffer {
    if (this.memory === null) throw new Error('pyfence: this interpreter has been released');
    return this.memory.buffer;
  }

  get byteLength(): number {
    return this.buffer.byteLength;
  }
  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.buffer, ptr, len);
  }
  u32(ptr: number): number {
    return new DataView(this.buffer).getUint32(ptr, true);
  }
  i32(ptr: number): number {
    return new DataView(this.buffer).getInt32(ptr, true);
  }
  setU32(ptr: number, value: number): void {
    new DataView(this.buffer).setUint32(ptr, value, true);
  }
  setI32(ptr: number, value: number): void {
    new DataView(this.buffer).setInt32(ptr, value, true);
  }
  utf8(ptr: number, len: number): string {
    return decoder.decode(this.bytes(ptr, len));
  }
  /** A NUL-terminated string starting at ptr (bounded by the end of memory). */
  cString(ptr: number): string {
    const all = new Uint8Array(this.buffer);
    let end = ptr;
    while (end < all.length && all[end] !== 0) end++;
    return decoder.decode(all.subarray(ptr, end));
  }
  grow(pages: number): boolean {
    try {
      if (this.memory === null) return false;
      this.memory.grow(pages);
      return true;
    } catch {
      return false;
    }
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });
