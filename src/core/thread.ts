// Starting a worker thread from either the compiled package (.js) or the TypeScript sources (.ts,
// under tsx in tests and development), where the worker must register tsx's loader first.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `entry` is a sibling module URL ending in .js or .ts, as `import.meta.url` of the caller gives. */
export function startWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The URL of a sibling module, with the extension the caller itself was loaded with. */
export function siblingModule(callerUrl: string, name: string): URL {
  const ext = callerUrl.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./${name}.${ext}`, callerUrl);
}
