// CPython's C-stack protection, fitted to the native stack the interpreter really has.
//
// CPython 3.14 stops C recursion (repr, ==, json, pickle of deep structures; the deallocator's
// trashcan defers objects near the limit) by comparing the stack pointer with limits in its thread
// state: a soft limit where it raises RecursionError, a hard one 8 KiB below. Here the stack pointer
// is the shadow stack in linear memory (10 MiB), and the limits are set from it. But V8 runs the wasm
// functions on its native stack, whose frames are many times larger than their share of the shadow
// stack (and functions that keep nothing in memory take native stack only): V8 ran out first, and a
// deep structure ended the run with a RangeError and a replaced interpreter.
//
// So pyfence's CPython worker threads get a native stack of WORKER_STACK_MB (src/pool/
// worker-session.ts), and there the limits allow as much shadow stack as that native stack can
// follow: measured on the recursions with the largest native frames per shadow-stack byte (C calling
// Python calling C, as a `__repr__` or a dataclass `==` of a deep chain does, up to ~60x) and on
// deallocation 100,000 deep (test/cpython-deep.test.ts). On any other thread -- an inline sandbox runs
// on the caller's, about 1 MB on Node's main thread, part of it already used by the caller -- the
// limits stay CPython's own: no budget was both safe there and deep enough for depths python3 handles
// (at 64 KiB json.dumps of a list 1,500 deep is refused, and json.dumps 100,000 deep still exhausted
// V8's stack inside the test runner), so inline runs keep what worked before and deep structures
// need `isolation: 'worker'`. Measured again for issue 21 on Node 20 (8 MiB OS stack, V8's ~1 MB):
// - v8.setFlagsFromString('--stack-size=N') at run time changes nothing for the main thread (a JS
//   recursion probe reaches the same depth before, after, and in a fresh vm context): V8 fixes an
//   isolate's limit when it starts.
// - A budget the caller's stack can follow: 16 KiB frees lists, dicts and tuples 100,000 deep and
//   makes repr, str, json and deepcopy of them catchable, but refuses ordinary code (importing pickle
//   overflows "during compilation"; repr 1,500 deep, a Python __repr__ 900 deep); at 32 KiB freeing
//   100,000 deep already exhausts V8's stack. No budget is both safe and as deep as python3.
// - Running inline CPython sandboxes on a worker instead: a fresh sandbox (create, print, dispose)
//   took 8.5-14 ms median inline against 570-630 ms on a worker (a thread per sandbox), ~60x and far
//   from issue 23's 5 ms: not done by default.
import { resourceLimits } from 'node:worker_threads';
import type { GuestMemory } from '../../engine/memory-view.js';

/** The native stack of a worker thread running CPython. Reserved, not committed: pages are used as touched. */
export const WORKER_STACK_MB = 64;
/** Shadow-stack bytes CPython may use on such a worker: python3's depths (repr of a list 10,000 deep). */
const WORKER_BUDGET_BYTES = 512 * 1024;

/** _PyOS_STACK_MARGIN_BYTES on wasm32: the soft limit is this far above the hard one. */
const MARGIN_BYTES = 2048 * 4;

/** How much shadow stack CPython may use on this thread; null for CPython's own limits. */
export function cStackBudgetBytes(): number | null {
  return (resourceLimits.stackSizeMb ?? 0) >= WORKER_STACK_MB ? WORKER_BUDGET_BYTES : null;
}

/**
 * Where (c_stack_top, c_stack_soft_limit, c_stack_hard_limit) of CPython's static main thread state
 * are in an initialised interpreter's memory: the one place holding the stack's top followed by two
 * limits a margin apart below it. Throws unless there is exactly one (another build): the limits must
 * not be written over the wrong bytes. `nonZero`: the image's parts that are not all zero (the
 * state's chunks), the only ones that can hold the (non-zero) stack top; reading the rest of a fresh
 * image would fault in ~30 MiB of zero pages.
 */
export function findCStackLimits(image: Uint8Array, stackTop: number, nonZero: readonly (readonly [at: number, bytes: Uint8Array])[] = [[0, image]]): number {
  const found: number[] = [];
  const words = new Uint32Array(image.buffer, image.byteOffset, image.byteLength >> 2); // little-endian, as wasm
  for (const [at, bytes] of nonZero) {
    // indexOf finds the candidates (a native scan), the loop checks each one.
    const part = words.subarray(at >> 2, (at + bytes.length) >> 2);
    for (let j = part.indexOf(stackTop); j !== -1; j = part.indexOf(stackTop, j + 1)) {
      const i = (at >> 2) + j;
      if (i + 2 >= words.length) break;
      const [soft, hard] = [words[i + 1], words[i + 2]];
      if (soft - hard === MARGIN_BYTES && hard > 0 && soft < stackTop) found.push(i * 4);
    }
  }
  if (found.length !== 1) throw new Error(`pyfence: CPython's C-stack limits were found ${found.length} times, not once`);
  return found[0];
}

/** CPython's C-stack limits as found: where they are, the stack's top and CPython's own soft limit. */
export interface CStackLimits {
  limitsAt: number;
  top: number;
  ownSoft: number;
}

export function readCStackLimits(image: Uint8Array, stackTop: number, nonZero?: readonly (readonly [number, Uint8Array])[]): CStackLimits {
  const limitsAt = findCStackLimits(image, stackTop, nonZero);
  const ownSoft = new DataView(image.buffer, image.byteOffset + limitsAt + 4, 4).getUint32(0, true);
  return { limitsAt, top: stackTop, ownSoft };
}

/**
 * Sets an interpreter's limits for this thread: `budgetBytes` of shadow stack below the top, or
 * CPython's own limits (an interpreter restored from a worker's snapshot may carry the worker's).
 */
export function fitCStackLimits(memory: GuestMemory, limits: CStackLimits, budgetBytes = cStackBudgetBytes()): void {
  const soft = budgetBytes === null ? limits.ownSoft : limits.top - budgetBytes;
  memory.setU32(limits.limitsAt + 4, soft);
  memory.setU32(limits.limitsAt + 8, soft - MARGIN_BYTES);
}
