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
/** Idle memories kept per module and thread, in physical bytes at most. */
const POOL_BUDGET_BYTES = 32 * 1024 * 1024;

const shapes = new WeakMap<WebAssembly.Module, MemoryShape | null>();
interface Pool {
  idle: WebAssembly.Memory[];
  bytes: number;
}
const pools = new WeakMap<WebAssembly.Module, Pool>();

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
  const pool = pools.get(module);
  const memory = pool?.idle.pop();
  if (!memory) return new WebAssembly.Memory({ initial: shape.initialPages, maximum: shape.maximumPages });
  pool!.bytes -= memory.buffer.byteLength;
  return memory;
}

/** Takes back the memory of an instance that will never run again. */
export function releaseMemory(module: WebAssembly.Module, memory: WebAssembly.Memory): void {
  const bytes = memory.buffer.byteLength;
  if (bytes > MAX_POOLED_BYTES) return;
  let pool = pools.get(module);
  if (!pool) pools.set(module, (pool = { idle: [], bytes: 0 }));
  if (pool.bytes + bytes > POOL_BUDGET_BYTES) return;
  new Uint8Array(memory.buffer).fill(0);
  pool.idle.push(memory);
  pool.bytes += bytes;
}
