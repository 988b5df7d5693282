// The instrumenting worker's side: answers { id, op, data } with { id, ok, value | message }.
// binaryen (10 MB, ~1 s to load) is loaded only by the worker for .wat text; binary modules never need it.
import type { MessagePort } from 'node:worker_threads';
import { instrumentBinary, RefusedModule } from './meter.js';
import { watBinary } from './wat.js';

export type Request = { id: number; op: 'instrument'; data: Uint8Array } | { id: number; op: 'wat'; data: string };

/** `binaryen`: given to the worker that parses .wat (worker-client.ts), null in the one that instruments. */
export function serve(port: MessagePort, binaryen: typeof import('binaryen').default | null): void {
  port.on('message', (req: Request) => {
    try {
      let value: unknown;
      if (req.op === 'instrument') value = instrumentBinary(req.data);
      else if (binaryen) value = watBinary(binaryen, req.data);
      else throw new Error('this worker has no binaryen');
      port.postMessage({ id: req.id, ok: true, value });
    } catch (e) {
      const message = (e as Error)?.message || String(e);
      port.postMessage({ id: req.id, ok: false, refused: true, message: e instanceof RefusedModule ? message : `cannot instrument this module: ${message}` });
    }
  });
}
