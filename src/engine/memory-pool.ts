// Linear memories of discarded instances, kept for the next instance of the same module, for every
// engine. A fresh WebAssembly.Memory costs a page fault per 4 KiB page the guest touches (about 14 us
// each on the benchmark machine: more than creating the instance); a recycled one keeps its pages
// mapped. One reset policy: a memory is reset when it is given back, before it is kept -- to what a
// new instance of its module starts from (all zero for a module that writes its own data segments,
// a template's image for one restored from it) -- so nothing of the last guest survives and the next
// instance takes it as it is.
import { MEMORY_IMPORT, MEMORY_SECTION } from './abi.js';

export interface MemoryShape {
  initialPages: number;
  maximumPages: number;
}

/** How a module's idle memories are kept and reset. */
export interface PoolPolicy {
  /** Memories physically larger than this are dropped rather than kept (their RAM goes back). */
  maxBytes: number;
  /** Idle memories kept per module and thread, in physical bytes at most. */
  budgetBytes: number;
  /** Makes a given-back memory what a new instance starts from; false if it cannot be (it is dropped). */
  reset(memory: WebAssembly.Memory): boolean;
  /**
   * Whether the instance that used the memory may serve the next interpreter with it (the engine
   * resets the rest of its state: its globals). Without it, instances are never kept.
   */
  reusable?(instance: WebAssembly.Instance): boolean;
}

/**
 * For modules that write their data segments into the memory they import (MicroPython): all zero,
 * with one fill. The guest cannot tell a recycled memory, physically larger, from a new one: it sees
 * the logical size the host keeps (build/passes/logical-memory.ts), never the physical one.
 */
export const ZEROED: PoolPolicy = {
  maxBytes: 16 * 1024 * 1024,
  budgetBytes: 32 * 1024 * 1024,
  reset(memory) {
    new Uint8Array(memory.buffer).fill(0);
    return true;
  },
};

const shapes = new WeakMap<WebAssembly.Module, MemoryShape | null>();
interface Idle {
  memory: WebAssembly.Memory;
  /** The instance that used it, if its policy lets it serve again (instantiating is most of a start). */
  instance: WebAssembly.Instance | null;
}
interface Pool {
  idle: Idle[];
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

export interface AcquiredMemory {
  memory: WebAssembly.Memory;
  /** True if it served an instance before (and was reset by its module's policy since). */
  recycled: boolean;
  /** The instance of `module` over this memory that served before, if its policy kept it. */
  instance: WebAssembly.Instance | null;
}

/** A memory for a new instance of `module`: a recycled one if one is idle, else a new one of `shape`. */
export function acquireMemory(module: WebAssembly.Module, shape: MemoryShape): AcquiredMemory {
  const pool = pools.get(module);
  const idle = pool?.idle.pop();
  if (!idle) return { memory: new WebAssembly.Memory({ initial: shape.initialPages, maximum: shape.maximumPages }), recycled: false, instance: null };
  pool!.bytes -= idle.memory.buffer.byteLength;
  return { memory: idle.memory, recycled: true, instance: idle.instance };
}

/**
 * Takes back the memory of an instance of `module` that will never run again, reset by `policy`;
 * with the instance itself if the policy finds it reusable.
 */
export function releaseMemory(module: WebAssembly.Module, memory: WebAssembly.Memory, policy: PoolPolicy, instance?: WebAssembly.Instance): void {
  const bytes = memory.buffer.byteLength;
  if (bytes > policy.maxBytes) return;
  let pool = pools.get(module);
  if (!pool) pools.set(module, (pool = { idle: [], bytes: 0 }));
  if (pool.bytes + bytes > policy.budgetBytes || !policy.reset(memory)) return;
  const reusable = instance !== undefined && instance.exports.memory === memory && (policy.reusable?.(instance) ?? false);
  pool.idle.push({ memory, instance: reusable ? instance : null });
  pool.bytes += bytes;
}
