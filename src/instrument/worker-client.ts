// binaryen runs in a worker thread: it takes ~1 s to load, and instrumenting a large module takes
// longer, neither of which should block the host's event loop. The worker imports binaryen before
// anything else, so under a TypeScript loader (tests) the 10 MB binaryen.js is not transformed.
import { Worker } from 'node:worker_threads';
import type { ModuleMeta } from './meter.js';
import type { Request } from './worker-entry.js';

/** Not a valid module, or one the instrumenter refuses (the message says why). */
export class InvalidModuleError extends Error {}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; refused: boolean; message: string };

class Instrumenter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private start(): Worker {
    const entry = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    const binaryen = import.meta.resolve('binaryen');
    const code = `
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const b = (await import(${JSON.stringify(binaryen)})).default;
        if (${JSON.stringify(entry)}.endsWith('.ts')) (await import('tsx/esm/api')).register();
        (await import(${JSON.stringify(entry)})).serve(b, parentPort);
      })().catch((e) => parentPort.postMessage({ id: 0, ok: false, refused: false, message: String(e && e.stack || e) }));`;
    const worker = new Worker(code, { eval: true, execArgv: [] });
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', () => {
      this.worker = null;
      this.failAll(new Error('the instrumenting worker stopped'));
    });
    worker.unref();
    return worker;
  }

  private settle(reply: Reply): void {
    if (reply.id === 0 && !reply.ok) return this.failAll(new Error(reply.message));
    const pending = this.waiting.get(reply.id);
    if (!pending) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reply.refused ? new InvalidModuleError(reply.message) : new Error(reply.message));
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.reject(e);
    this.waiting.clear();
  }

  private call<T>(req: Omit<Request, 'id'>): Promise<T> {
    this.worker ??= this.start();
    this.worker.ref(); // keep the process alive while a reply is due
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage({ ...req, id });
    });
  }

  instrument(original: Uint8Array): Promise<{ bytes: Uint8Array; meta: ModuleMeta }> {
    return this.call({ op: 'instrument', data: original });
  }

  wat(text: string): Promise<Uint8Array> {
    return this.call({ op: 'wat', data: text });
  }
}

let shared: Instrumenter | null = null;
export function instrumenter(): Instrumenter {
  return (shared ??= new Instrumenter());
}
