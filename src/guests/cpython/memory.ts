// Linear memories for CPython interpreters. A fresh WebAssembly.Memory costs a page fault per page the
// interpreter touches and adds GC pressure; a memory of a discarded interpreter is kept (a few per
// thread) and handed to the next one, which overwrites all of it with the template's image before
// the guest runs, so nothing of the previous interpreter survives.
import type { MemoryLimits } from './wasm-edit.js';

/** Idle memories kept per thread (each is the template's size, about 30 MiB of host RAM). */
const MAX_IDLE = 2;
const idle: WebAssembly.Memory[] = [];

export interface AcquiredMemory {
  memory: WebAssembly.Memory;
  /** True if it held another interpreter: every byte must be overwritten before use. */
  recycled: boolean;
}

export function acquireMemory(limits: MemoryLimits, bytes: number): AcquiredMemory {
  const memory = idle.pop();
  if (memory && memory.buffer.byteLength === bytes) return { memory, recycled: true };
  return { memory: new WebAssembly.Memory({ initial: limits.initialPages, maximum: limits.maximumPages }), recycled: false };
}

/** Takes back the memory of an interpreter that will never run again, if it is the template's size. */
export function releaseMemory(memory: WebAssembly.Memory, templateBytes: number): void {
  if (memory.buffer.byteLength === templateBytes && idle.length < MAX_IDLE) idle.push(memory);
}
