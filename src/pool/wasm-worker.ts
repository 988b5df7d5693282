// The worker thread behind a WasmPool: runs one job at a time, each in a fresh instance of the module
// it was sent. A granted host function blocks this thread until the pool's thread, which owns the
// function (and may await it), answers, or until the run's deadline.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../python/errors.js';
import { runOnce } from '../guests/wasi/run.js';
import { WasmStop } from '../guests/wasi/result.js';
import { resolveWasmLimits, type HostFunction, type WasmRunOptions } from '../guests/wasi/options.js';
import { BlockingCallClient } from './blocking-call.js';
import type { FromWasmWorker, HostCallAnswer, HostCallRequest, WasmJob, WasmWorkerData } from './wasm-protocol.js';

const port = parentPort!;
const data = workerData as WasmWorkerData;
const hostCalls = new BlockingCallClient<HostCallRequest, HostCallAnswer>(data.hostPort, data.hostSignal);
const send = (msg: FromWasmWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function proxies(job: WasmJob, deadline: number, timeoutMs: number): Record<string, HostFunction> {
  const out: Record<string, HostFunction> = {};
  for (const key of job.hostImports) {
    out[key] = (...args) => {
      const answer = hostCalls.call({ job: job.id, key, args }, () => deadline - performance.now());
      if (!answer) throw new WasmStop('timeout', 'Timeout', `host function ${key} did not answer within the run's ${timeoutMs} ms deadline`);
      if ('error' in answer) throw new WasmStop('fault', 'HostFunctionError', `host function ${key} threw: ${answer.error}`);
      return answer.value;
    };
  }
  return out;
}

function streamTo(type: 'stdout' | 'stderr', id: number) {
  return (bytes: Uint8Array) => {
    const copy = bytes.slice(); // the guest's chunk may be a view of its memory
    send({ type, id, bytes: copy }, [copy.buffer]);
  };
}

port.on('message', (job: WasmJob) => {
  try {
    const { timeoutMs } = resolveWasmLimits(job.options.limits);
    const options: WasmRunOptions = {
      ...job.options,
      imports: job.hostImports.length ? proxies(job, performance.now() + timeoutMs, timeoutMs) : undefined,
      ...(job.stream ? { onStdout: streamTo('stdout', job.id), onStderr: streamTo('stderr', job.id) } : {}),
    };
    if (options.imports === undefined) delete options.imports;
    const result = runOnce({ module: job.module, meta: job.meta }, job.entry, options);
    send({ type: 'result', id: job.id, result });
  } catch (e) {
    send({ type: 'failed', id: job.id, usage: e instanceof UsageError, message: (e as Error)?.message ?? String(e) });
  }
});
send({ type: 'ready' });
