// Instrumenting runs in a worker thread, so that a large module neither blocks the host's event loop
// nor takes more than its bounds: each request has a deadline (COMPILE_TIMEOUT_MS) and the worker a
// heap limit; past either, the worker is ended and the request refused. While a reply is due the
// worker keeps the process alive; idle, it does not.
import { Worker } from 'node:worker_threads';
import type { ModuleMeta } from './meter.js';
import type { Request } from './worker-entry.js';

/** Not a valid module, or one the instrumenter refuses (the message says why). */
export class InvalidModuleError extends Error {}

/**
 * The most time one module's instrumentation or .wat parse may take, queueing included (a 4 MiB
 * binary takes well under 2 s; binaryen parses 4 MiB of text in ~10 s, several times that on a
 * loaded machine).
 */
export const COMPILE_TIMEOUT_MS = 60_000;
/** The instrumenting worker's heap bound (a 4 MiB module needs well under 100 MB). */
const WORKER_HEAP_MB = 512;
/** prewarm(): rounds of the generated module (~24 KB each), about 0.1-0.3 s of one core in all. */
const PREWARM_ROUNDS = 12;

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; refused: boolean; message: string };
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

class Instrumenter {
  /** `withBinaryen`: the worker parses .wat text (binaryen is imported before any TypeScript loader, so tests do not transform its 10 MB). */
  constructor(private readonly withBinaryen: boolean) {}

  private worker: Worker | null = null;
  /** Whether the current worker was asked to warm up (prewarm()). */
  private warmed = false;
  /** Whether a server asked for the worker (prewarm()): its modules go there even after a restart. */
  private wanted = false;
  private nextId = 1;
  private readonly waiting = new Map<number, Pending>();

  private start(): Worker {
    const entry = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    const binaryen = this.withBinaryen ? import.meta.resolve('binaryen') : null;
    const code = `
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const b = ${JSON.stringify(binaryen)} ? (await import(${JSON.stringify(binaryen)})).default : null;
        if (${JSON.stringify(entry)}.endsWith('.ts')) (await import('tsx/esm/api')).register();
        (await import(${JSON.stringify(entry)})).serve(parentPort, b);
      })().catch((e) => parentPort.postMessage({ id: 0, ok: false, refused: false, message: String(e && e.stack || e) }));`;
    const worker = new Worker(code, { eval: true, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (e) => this.stop(worker, new InvalidModuleError(`instrumenting stopped: ${e.message}`)));
    worker.on('exit', () => this.stop(worker, new Error('the instrumenting worker stopped')));
    return worker;
  }

  /** Ends `worker` (if still current) and fails whatever was waiting on it. */
  private stop(worker: Worker, e: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.warmed = false;
    void worker.terminate();
    for (const p of this.waiting.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.waiting.clear();
  }

  private settle(reply: Reply): void {
    if (reply.id === 0 && !reply.ok) return this.stop(this.worker!, new Error(reply.message));
    const pending = this.waiting.get(reply.id);
    if (!pending) return;
    this.waiting.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reply.refused ? new InvalidModuleError(reply.message) : new Error(reply.message));
  }

  private call<T>(req: Omit<Request, 'id'>): Promise<T> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // The timer is ref'd: a pending compile keeps the process alive until it answers or times out.
      const timer = setTimeout(() => {
        this.stop(worker, new InvalidModuleError(`instrumenting the module took longer than ${COMPILE_TIMEOUT_MS} ms`));
      }, COMPILE_TIMEOUT_MS);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ ...req, id });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }

  instrument(original: Uint8Array): Promise<{ bytes: Uint8Array; meta: ModuleMeta }> {
    this.ref();
    return this.call({ op: 'instrument', data: original });
  }

  wat(text: string): Promise<Uint8Array> {
    this.ref();
    return this.call({ op: 'wat', data: text });
  }

  /**
   * Whether modules should come here: a worker is started (a module meets no worker start), or a
   * server asked for one (its event loop is never held by a rewrite).
   */
  get preferred(): boolean {
    return this.worker !== null || this.wanted;
  }

  /**
   * Starts the worker ahead of the first module and has it warm the rewriter up on a generated
   * module, between requests (worker-entry.ts). Idle, it keeps nothing alive; once per worker.
   */
  prewarm(rounds = PREWARM_ROUNDS): void {
    this.wanted = true;
    const worker = (this.worker ??= this.start());
    if (this.waiting.size === 0) worker.unref();
    if (this.warmed) return;
    this.warmed = true;
    worker.postMessage({ id: 0, op: 'warm', data: rounds });
  }

  private ref(): void {
    (this.worker ??= this.start()).ref();
  }
}

let shared: Instrumenter | null = null;
let watShared: Instrumenter | null = null;
/** The worker that instruments binary modules (no binaryen). */
export function instrumenter(): Instrumenter {
  return (shared ??= new Instrumenter(false));
}
/** The worker that turns .wat text into binary (binaryen), started only when text is given. */
export function watParser(): Instrumenter {
  return (watShared ??= new Instrumenter(true));
}
