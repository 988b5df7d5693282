// CPython's C-stack protection, fitted to the native stack the interpreter really has.
//
// CPython 3.14 stops C recursion (repr, ==, json, pickle of deep structures; the deallocator's
// trashcan defers objects near the limit) by comparing the stack pointer with limits in its thread
// state: a soft limit where it raises RecursionError, a hard one 8 KiB below. Here the stack pointer
// is the shadow stack in linear memory (10 MiB), and the limits are set from it. But V8 runs the wasm
// functions on its native stack, where a level of recursion takes many times its share of shadow
// stack, or all of its stack (deallocation takes no shadow stack at all: the trashcan never saw it).
// Two things make the shadow stack a measure of the native one:
// - The build gives the functions the deep recursions pass through once a level (_Py_Dealloc,
//   PyObject_Repr, PyObject_RichCompare, _PyEval_EvalFrameDefault, _pickle's save, _json's encoder
//   and scanner, isinstance's tuple walk) shadow stack around each call, so that a level takes as many
//   bytes of shadow stack as of native stack (build/cpython/shadow-frames.ts): freeing nesting of any
//   depth defers to the trashcan as in python3, and repr, str, ==, json, pickle, isinstance and Python
//   code called from C reach the soft limit before V8's. Hashing, which has no check, is iterative
//   past a depth (build/cpython/tuple-hash.ts).
// - The limits allow as much shadow stack as the thread's native stack can follow. A CPython worker
//   thread gets WORKER_STACK_MB (src/pool/worker-session.ts) and WORKER_BUDGET_BYTES. Any other
//   thread -- an inline sandbox runs on the caller's, 984 KiB on Node's main thread, part of it already
//   used by the caller -- gets INLINE_BUDGET_BYTES: what python3 does at moderate depths needs ~590 KiB
//   (== of lists 1,500 deep, 401 bytes a level; compiling 200 nested calls ~220 KiB), and a run starts
//   ~90 KiB down V8's stack. Measured (test/cpython-deep.test.ts's cases, and dicts, tuples, frozensets,
//   json with indent, isinstance, deepcopy, all 100,000 deep): python3's outcome inline with V8's
//   default stack and at 900 KiB; at 850 KiB (134 KiB more used by a caller) the first overflows.
//   Python code called from C takes ~4.3 KiB of V8's stack a level when V8 has optimised the eval
//   loop, so inline a `__repr__` that calls repr() recurses 148 deep (python3 and a worker: ~995, the
//   recursion limit).
// Measured for issue 21 on Node 20 (8 MiB OS stack, V8's ~1 MB): v8.setFlagsFromString('--stack-size')
// at run time changes nothing for the main thread (V8 fixes an isolate's limit when it starts); a worker
// per inline sandbox took 570-630 ms to start against 8.5-14 ms inline.
import { resourceLimits } from 'node:worker_threads';
import type { GuestMemory } from '../../engine/memory-view.js';

/** The native stack of a worker thread running CPython. Reserved, not committed: pages are used as touched. */
export const WORKER_STACK_MB = 64;
/**
 * Shadow-stack bytes CPython may use on such a worker, within the 10 MiB shadow stack (the module's
 * data lies below it): a `__repr__` recursion 995 deep (python3's depth) needs ~4.2 MiB; json.loads
 * of 100,000 nested lists must still be refused (~39 MiB); unframed recursions may take up to ~10
 * times their shadow stack on the native stack.
 */
const WORKER_BUDGET_BYTES = 6 * 1024 * 1024;
/** On any other thread: see above. */
const INLINE_BUDGET_BYTES = 640 * 1024;

/** _PyOS_STACK_MARGIN_BYTES on wasm32: the soft limit is this far above the hard one. */
const MARGIN_BYTES = 2048 * 4;

/** How much shadow stack CPython may use on this thread. */
export function cStackBudgetBytes(): number {
  return (resourceLimits.stackSizeMb ?? 0) >= WORKER_STACK_MB ? WORKER_BUDGET_BYTES : INLINE_BUDGET_BYTES;
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

/** CPython's C-stack limits as found: where they are and the stack's top. */
export interface CStackLimits {
  limitsAt: number;
  top: number;
}

export function readCStackLimits(image: Uint8Array, stackTop: number, nonZero?: readonly (readonly [number, Uint8Array])[]): CStackLimits {
  return { limitsAt: findCStackLimits(image, stackTop, nonZero), top: stackTop };
}

/** The two words the limits are, for `budgetBytes` of shadow stack below the top: [where, value]. */
function limitWords(limits: CStackLimits, budgetBytes: number): [at: number, value: number][] {
  const soft = limits.top - budgetBytes;
  return [
    [limits.limitsAt + 4, soft],
    [limits.limitsAt + 8, soft - MARGIN_BYTES],
  ];
}

/**
 * Sets an interpreter's limits for this thread: `budgetBytes` of shadow stack below the top (an
 * interpreter restored from another thread's snapshot carries that thread's).
 */
export function fitCStackLimits(memory: GuestMemory, limits: CStackLimits, budgetBytes = cStackBudgetBytes()): void {
  for (const [at, value] of limitWords(limits, budgetBytes)) memory.setU32(at, value);
}

/**
 * Gives the template's image the inline limits, whatever thread makes it: an inline interpreter then
 * starts byte for byte as the image (a recycled memory is checked against it) and its snapshots do
 * not carry the limits' chunk.
 */
export function fitImageCStackLimits(image: Uint8Array, limits: CStackLimits): void {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (const [at, value] of limitWords(limits, INLINE_BUDGET_BYTES)) view.setUint32(at, value, true);
}
