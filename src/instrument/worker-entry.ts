// The instrumenting worker's side: answers { id, op, data } with { id, ok, value | message }.
import type binaryenT from 'binaryen';
import type { MessagePort } from 'node:worker_threads';
import { instrumentBinary, RefusedModule, watBinary } from './meter.js';

export type Request = { id: number; op: 'instrument'; data: Uint8Array } | { id: number; op: 'wat'; data: string };

export function serve(b: typeof binaryenT, port: MessagePort): void {
  port.on('message', (req: Request) => {
    try {
      const value = req.op === 'instrument' ? instrumentBinary(b, req.data) : watBinary(b, req.data);
      port.postMessage({ id: req.id, ok: true, value });
    } catch (e) {
      // Whatever binaryen cannot read or rewrite cannot run metered: the module is refused.
      const message = (e as Error)?.message || String(e);
      port.postMessage({ id: req.id, ok: false, refused: true, message: e instanceof RefusedModule ? message : `cannot instrument this module: ${message}` });
    }
  });
}
