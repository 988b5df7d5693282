// `emscripten_resize_heap` for any guest whose allocator asks the host for memory: the cap is the
// host's (the guest never grows memory itself, the build checks that), growth has some headroom, as
// Emscripten's own does, so that many small steps are not many grow calls.
import { WASM_PAGE_BYTES } from './abi.js';

export interface HeapAccount {
  hooks: { memoryLimitBytes: number };
  /** Set when the cap refused a growth (a later failure is then reported as the memory limit). */
  capRefusedGrowth: boolean;
  peakBytes: number;
}

export interface GuestHeap {
  /** The memory size the guest sees. */
  size(): number;
  /** Makes the guest see `bytes` (a whole number of pages above the current size); false if it cannot. */
  growTo(bytes: number): boolean;
}

/** 1 if the guest may now use `requested` bytes, 0 if not (the C allocator then fails cleanly). */
export function resizeHeap(account: HeapAccount, heap: GuestHeap, requested: number): number {
  requested >>>= 0;
  const limit = account.hooks.memoryLimitBytes;
  if (requested > limit) {
    account.capRefusedGrowth = true;
    return 0;
  }
  const old = heap.size();
  const pagesUpTo = (bytes: number) => old + Math.ceil(Math.max(0, bytes - old) / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
  const target = Math.min(limit, Math.max(requested, Math.ceil(old * 1.25)));
  if (!heap.growTo(pagesUpTo(target)) && !heap.growTo(pagesUpTo(requested))) {
    account.capRefusedGrowth = true;
    return 0;
  }
  account.peakBytes = Math.max(account.peakBytes, heap.size());
  return 1;
}
