// Zeroes the heap's free memory before the template is captured. This CPython (Pyodide's build) has
// no pymalloc: every object is a dlmalloc chunk, and initialising it (compiling the preloaded stdlib
// from source) frees megabytes that keep their last contents. Every non-zero page of the template is
// copied into every interpreter and stays resident per session: zeroed, those pages stay unmapped.
import type { CPythonInstance } from './instance.js';

/** The dlmalloc functions this uses (exported by build/cpython/ for the bake only). */
interface DlmallocExports {
  malloc(size: number): number;
  free(ptr: number): void;
  malloc_usable_size(ptr: number): number;
  malloc_footprint(): number;
  malloc_set_footprint_limit(bytes: number): number;
}

/** The smallest request tried: dlmalloc's smallest chunk holds 12 usable bytes on wasm32. */
const SMALLEST_REQUEST = 8;
/** dlmalloc's "no limit" (MAX_SIZE_T, as an i32 argument). */
const NO_LIMIT = -1;

/**
 * Takes every free chunk with malloc, zeroes what it holds, and frees them all again. The footprint
 * limit keeps malloc from growing the heap: it fails once the free chunks of a size are used up, and
 * the next smaller size takes what is left. Freeing writes back only the chunks' headers and list
 * links, so whole free pages end up zero. Returns the bytes zeroed.
 */
export function zeroFreeHeap(inst: CPythonInstance): number {
  return inst.call((exports) => {
    const e = exports as unknown as DlmallocExports;
    const footprint = e.malloc_footprint();
    e.malloc_set_footprint_limit(footprint);
    const held: number[] = [];
    let zeroed = 0;
    try {
      for (let size = 2 ** Math.floor(Math.log2(footprint)); size >= SMALLEST_REQUEST; size /= 2) {
        for (let ptr = e.malloc(size); ptr !== 0; ptr = e.malloc(size)) {
          const usable = e.malloc_usable_size(ptr);
          inst.memory.bytes(ptr, usable).fill(0);
          zeroed += usable;
          held.push(ptr);
        }
      }
    } finally {
      for (const ptr of held) e.free(ptr);
      e.malloc_set_footprint_limit(NO_LIMIT);
    }
    if (e.malloc_footprint() !== footprint) throw new Error('pyfence: zeroing the free heap grew it');
    return zeroed;
  });
}
