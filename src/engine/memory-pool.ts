// Linear memories of discarded instances, zeroed and kept for the next instance of the same module.
// A fresh WebAssembly.Memory costs a page fault per 4 KiB page the guest touches (about 14 us each
// on the benchmark machine: more than creating the instance); a recycled one is zeroed with one fill,
// and its pages stay mapped. The guest cannot tell: it sees the logical size the host keeps
// (build/passes/logical-memory.ts), never the physical one, and the memory is all zero before the
// new instance's data segments are written into it.
import { MEMORY_IMPORT, MEMORY_SECTION } from './abi.js';

export interface MemoryShape {
  initialPages: number;
  maximumPages: number;
}

/** Memories physically larger than this are dropped rather than kept (their RAM goes back). */
const MAX_POOLED_BYTES = 16 * 1024 * 1024;
/** At most this many idle memories per module and thread. */
const MAX_POOLED = 8;

const shapes = new WeakMap<WebAssembly.Module, MemoryShape | null>();
const pools = new WeakMap<WebAssembly.Module, WebAssembly.Memory[]>();

/** The memory a module imports, or null if it defines its own (as while baking). */
export function importedMemoryShape(module: WebAssembly.Module): MemoryShape | null {
  let shape = shapes.get(module);
  if (shape === undefined) {
    shape = null;
    if (WebAssembly.Module.imports(module).some((i) => i.kind === 'memory' && i.name === MEMORY_IMPORT)) {
      const [section] = WebAssembly.Module.customSections(module, MEMORY_SECTION);
      if (!section) throw new Error(`pyfence: the module imports memory but has no ${MEMORY_SECTION} section`);
      shape = JSON.parse(new TextDecoder().decode(section)) as MemoryShape;
    }
    shapes.set(module, shape);
  }
  return shape;
}

/** A zeroed memory of at least the module's initial size: recycled if one is idle. */
export function acquireMemory(module: WebAssembly.Module, shape: MemoryShape): WebAssembly.Memory {
  return pools.get(module)?.pop() ?? new WebAssembly.Memory({ initial: shape.initialPages, maximum: shape.maximumPages });
}

/** Takes back the memory of an instance that will never run again. */
export function releaseMemory(module: WebAssembly.Module, memory: WebAssembly.Memory): void {
  if (memory.buffer.byteLength > MAX_POOLED_BYTES) return;
  let pool = pools.get(module);
  if (!pool) pools.set(module, (pool = []));
  if (pool.length >= MAX_POOLED) return;
  new Uint8Array(memory.buffer).fill(0);
  pool.push(memory);
}
