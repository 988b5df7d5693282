// Network requests for inline sandboxes: fetch is asynchronous and the guest waits on this thread,
// so one shared helper thread (started on first use, not keeping the process alive) performs them.
import type { Worker } from 'node:worker_threads';
import { BlockingCallClient, blockingChannel } from '../../core/blocking-call.js';
import { siblingModule, startWorker } from '../../core/thread.js';
import type { NetPolicy } from './allow-list.js';
import { guardedFetch, NetError, type NetErrorKind, type NetRequest, type NetResponse } from './guarded-fetch.js';

export type FetchOutcome = { response: NetResponse } | { error: [NetErrorKind | 'TimeoutError', string] };

let helper: { worker: Worker; client: BlockingCallClient<{ policy: NetPolicy; request: NetRequest }, FetchOutcome> } | null = null;

function fetchHelper() {
  if (!helper) {
    const channel = blockingChannel();
    const worker = startWorker(siblingModule(import.meta.url, 'fetch-worker'), {
      workerData: { port: channel.port, signal: channel.signal },
      transferList: [channel.port],
    });
    worker.unref();
    worker.on('error', () => (helper = null));
    worker.on('exit', () => (helper = null));
    helper = { worker, client: new BlockingCallClient(channel.local, channel.signal) };
  }
  return helper;
}

/** Blocks until the request is answered or `budgetMs()` runs out. */
export function fetchSync(policy: NetPolicy, request: NetRequest, budgetMs: () => number): FetchOutcome {
  const answer = fetchHelper().client.call({ policy, request }, budgetMs);
  return answer ?? { error: ['TimeoutError', 'the request did not finish before the time limit'] };
}

/** The same outcome shape, for threads that can await (worker sandboxes' main thread). */
export async function fetchAsync(policy: NetPolicy, request: NetRequest): Promise<FetchOutcome> {
  try {
    return { response: await guardedFetch(policy, request) };
  } catch (e) {
    if (e instanceof NetError) return { error: [e.kind, e.message] };
    return { error: ['ConnectionError', (e as Error).message] };
  }
}
