// The instrumenting worker's side: answers { id, op, data } with { id, ok, value | message }.
// binaryen (10 MB, ~1 s to load) is loaded only by the worker for .wat text; binary modules never need it.
import type { MessagePort } from 'node:worker_threads';
import { instrumentBinary, RefusedModule, type ModuleMeta } from './meter.js';
import { warmupModule } from './warmup-module.js';
import { watBinary } from './wat.js';

/** `warm`: rewrite a generated module `data` times, one at a time between requests; no answer. */
export type Request = { id: number; op: 'instrument'; data: Uint8Array } | { id: number; op: 'wat'; data: string } | { id: number; op: 'warm'; data: number };

/** Functions of the warm-up module: ~24 KB of code, a few milliseconds per rewrite once optimized. */
const WARMUP_FUNCTIONS = 100;

/**
 * The instrumented module, or the message a user sees for a module it refuses (every failure of the
 * rewrite refuses the module). Used by this worker and by the calling thread for small modules (load.ts).
 */
export function instrumentOrRefusal(data: Uint8Array): { ok: true; value: { bytes: Uint8Array; meta: ModuleMeta } } | { ok: false; message: string } {
  try {
    return { ok: true, value: instrumentBinary(data) };
  } catch (e) {
    return { ok: false, message: refusal(e) };
  }
}

function refusal(e: unknown): string {
  const message = (e as Error)?.message || String(e);
  return e instanceof RefusedModule ? message : `cannot instrument this module: ${message}`;
}

/** `binaryen`: given to the worker that parses .wat (worker-client.ts), null in the one that instruments. */
export function serve(port: MessagePort, binaryen: typeof import('binaryen').default | null): void {
  port.on('message', (req: Request) => {
    if (req.op === 'warm') return warm(req.data);
    if (req.op === 'instrument') {
      const result = instrumentOrRefusal(req.data);
      port.postMessage(result.ok ? { id: req.id, ok: true, value: result.value } : { id: req.id, ok: false, refused: true, message: result.message });
      return;
    }
    try {
      if (!binaryen) throw new Error('this worker has no binaryen');
      port.postMessage({ id: req.id, ok: true, value: watBinary(binaryen, req.data) });
    } catch (e) {
      port.postMessage({ id: req.id, ok: false, refused: true, message: refusal(e) });
    }
  });
}

/**
 * V8 runs the rewriter in its interpreter until it has seen enough of it: a fresh worker's first
 * module took several times as long as the next. Rounds of a generated module, each in its own turn
 * of the event loop, so a request that comes meanwhile waits for one round at most.
 */
function warm(rounds: number): void {
  const module = warmupModule(WARMUP_FUNCTIONS);
  const round = (left: number) => {
    if (left <= 0) return;
    instrumentBinary(module);
    setImmediate(() => round(left - 1));
  };
  setImmediate(() => round(rounds));
}
