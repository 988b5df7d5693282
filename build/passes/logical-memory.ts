// The memory size the guest sees is a wasm global the host keeps, not the physical size of linear
// memory. The engine recycles memories of disposed sandboxes (a fresh memory costs a page fault per
// 4 KiB page on first touch), and a recycled memory may be physically larger than a fresh one; with
// its size read from this global, sbrk still asks the host (emscripten_resize_heap) for every step
// past the logical size, so the memory cap, the reported peak and the garbage collector's policy are
// the same as in a fresh memory. The global is outside linear memory: guest code cannot change it.
import binaryen from 'binaryen';
import { FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import { MEMORY_BYTES_EXPORT, WASM_PAGE_BYTES } from '../../src/engine/abi.js';

export const MEMORY_BYTES_GLOBAL = 'pyfence_memory_bytes';

export interface LogicalMemoryReport {
  /** emscripten_get_heap_size: `memory.size << 16`, the only reader of memory.size in the input. */
  heapSizeFunction: string;
}

export function useLogicalMemorySize(m: Module, memoryName: string): LogicalMemoryReport {
  const readers: string[] = [];
  const helpers: string[] = [];
  for (const name of definedFunctionNames(m)) {
    const body = binaryen.getFunctionInfo(m.getFunction(name)).body;
    if (!expressions(body).some((e) => kind(e) === binaryen.MemorySizeId)) continue;
    readers.push(name);
    const isShl16 =
      kind(body) === binaryen.BinaryId &&
      info(body).op === binaryen.ShlInt32 &&
      kind(info(body).left) === binaryen.MemorySizeId &&
      isConst(info(body).right, 16);
    if (isShl16) helpers.push(name);
  }
  if (readers.length !== 1 || helpers.length !== 1) {
    throw new Error(`logical memory: expected memory.size read only by emscripten_get_heap_size, found it in ${readers.length} functions`);
  }
  const initialPages = m.getMemoryInfo(memoryName).initial;
  addMemoryBytesGlobal(m, initialPages);
  m.addGlobalExport(MEMORY_BYTES_GLOBAL, MEMORY_BYTES_EXPORT);
  FunctionNode.setBody(m.getFunction(helpers[0]), m.global.get(MEMORY_BYTES_GLOBAL, binaryen.i32));
  return { heapSizeFunction: helpers[0] };
}

/** The global's start value once the bake has fixed the initial memory. */
export function setInitialMemoryBytes(m: Module, pages: number): void {
  m.removeGlobal(MEMORY_BYTES_GLOBAL);
  addMemoryBytesGlobal(m, pages);
}

function addMemoryBytesGlobal(m: Module, pages: number): void {
  m.addGlobal(MEMORY_BYTES_GLOBAL, binaryen.i32, true, m.i32.const(pages * WASM_PAGE_BYTES));
}
