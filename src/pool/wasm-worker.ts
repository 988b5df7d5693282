// The worker thread behind a WasmPool: runs one job at a time, each in a fresh instance of the module
// it was sent. A granted host function blocks this thread until the pool's thread, which owns the
// function (and may await it), answers, or until the run's deadline.
import { HostStop } from '../core/stop.js';
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../core/errors.js';
import { runModule } from '../session/module-run.js';
import { ModuleFault, type WasmValue } from '../guests/wasi/result.js';
import { resolveWasmLimits, type HostFunction, type WasmRunOptions } from '../guests/wasi/options.js';
import { BlockingCallClient } from '../core/blocking-call.js';
import type { FromWasmWorker, HostCallAnswer, HostCallRequest, WasmJob, WasmWorkerData } from './wasm-protocol.js';

const port = parentPort!;
const data = workerData as WasmWorkerData;
const hostCalls = new BlockingCallClient<HostCallRequest, HostCallAnswer>(data.hostPort, data.hostSignal);
const send = (msg: FromWasmWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** `beforeWait`: the guest's output so far goes out before it waits on the caller's thread. */
function proxies(job: WasmJob, deadline: number, timeoutMs: number, beforeWait: () => void): Record<string, HostFunction> {
  const out: Record<string, HostFunction> = {};
  for (const key of job.hostImports) {
    out[key] = (...args) => {
      beforeWait();
      const answer = hostCalls.call({ job: job.id, key, args }, () => deadline - performance.now());
      if (!answer) throw new HostStop('timeout', `host function ${key} did not answer within the run's ${timeoutMs} ms deadline`);
      if ('error' in answer) throw new ModuleFault('HostFunctionError', `host function ${key} threw: ${answer.error}`);
      return answer.value as WasmValue | undefined; // a boolean or string converts as it would inline
    };
  }
  return out;
}

/** Largest batch of output held back; a batch also goes at every deadline check and at the end. */
const BATCH_BYTES = 16 * 1024;

/**
 * Streamed output in batches: one message per write would let a guest writing single bytes cost
 * the caller's thread a message each (a million for a 1 MiB output cap).
 */
class OutputBatches {
  private pending: { type: 'stdout' | 'stderr'; chunks: Uint8Array[]; size: number } | null = null;

  constructor(private readonly id: number) {}

  writer(type: 'stdout' | 'stderr'): (bytes: Uint8Array) => void {
    return (bytes) => {
      if (this.pending && this.pending.type !== type) this.flush();
      this.pending ??= { type, chunks: [], size: 0 };
      this.pending.chunks.push(bytes);
      this.pending.size += bytes.length;
      if (this.pending.size >= BATCH_BYTES) this.flush();
    };
  }

  flush(): void {
    if (!this.pending) return;
    const { type, chunks } = this.pending;
    this.pending = null;
    // A new buffer, transferred: the run keeps its own chunks for the result.
    const bytes = new Uint8Array(Buffer.concat(chunks));
    send({ type, id: this.id, bytes }, [bytes.buffer]);
  }
}

port.on('message', (job: WasmJob) => {
  try {
    const { timeoutMs } = resolveWasmLimits(job.options.limits);
    const output = job.stream ? new OutputBatches(job.id) : null;
    const options: WasmRunOptions = { ...job.options };
    if (job.hostImports.length) options.imports = proxies(job, performance.now() + timeoutMs, timeoutMs, () => output?.flush());
    if (output) Object.assign(options, { onStdout: output.writer('stdout'), onStderr: output.writer('stderr') });
    const result = runModule({ module: job.module, meta: job.meta }, job.entry, options, output ? () => output.flush() : undefined);
    output?.flush();
    send({ type: 'result', id: job.id, result });
  } catch (e) {
    send({ type: 'failed', id: job.id, usage: e instanceof UsageError, message: (e as Error)?.message ?? String(e) });
  }
});
send({ type: 'ready' });
