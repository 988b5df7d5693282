// The one worker thread entry, for every guest: it keeps the Python session it was started with, or
// runs modules, each in a fresh instance; both on the one Session, driven by messages. Output goes
// to the main thread as bytes while the guest writes. Host calls block this thread until the main
// thread, which owns the host functions (and may await them), answers, or until the run's deadline.
import { parentPort, workerData } from 'node:worker_threads';
import { monotonicMs } from '../core/clock.js';
import type { AuditSink } from '../core/audit.js';
import { UsageError } from '../core/errors.js';
import { HostStop } from '../core/stop.js';
import type { OutputCallbacks } from '../core/output.js';
import { plainResult } from '../guests/python-common/result.js';
import { pythonEngine } from '../guests/registry.js';
import { ModuleFault, type WasmValue } from '../guests/wasi/result.js';
import { resolveWasmLimits, type HostFunction, type WasmRunOptions } from '../guests/wasi/options.js';
import { Session } from '../session/session.js';
import { runModule } from '../session/module-run.js';
import { runFsOp } from '../capabilities/sandbox-fs.js';
import { BlockingCallClient } from '../core/blocking-call.js';
import { HostCallGate } from '../capabilities/host-call-gate.js';
import { refusedCall } from '../capabilities/host-functions.js';
import { collectFiles, placeFiles } from './run-files.js';
import { carryCall, type CarriedAnswer, type CarriedCall } from './host-call-transport.js';
import type { FromWorker, HostCallAnswer, HostCallRequest, OutputBatch, SessionData, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as WorkerData;
const hostCalls = new BlockingCallClient<CarriedCall | HostCallRequest, CarriedAnswer | HostCallAnswer>(data.hostPort, data.hostSignal);
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** Largest batch of a module's output held back; a batch also goes at every checkpoint and at the end. */
const BATCH_BYTES = 16 * 1024;

/**
 * Output on its way to the main thread. A module's goes in batches (one message per write would let
 * a guest writing single bytes cost the caller's thread a message each, a million for a 1 MiB cap);
 * an interpreter's goes at once (`batchBytes` 0: a prompt shows before the run waits).
 */
class OutputStream {
  private pending: { type: 'stdout' | 'stderr'; chunks: Uint8Array[]; size: number } | null = null;

  constructor(
    private readonly id: number,
    private readonly batchBytes: number,
  ) {}

  readonly callbacks: OutputCallbacks = { onStdoutBytes: (b) => this.write('stdout', b), onStderrBytes: (b) => this.write('stderr', b) };

  private write(type: 'stdout' | 'stderr', bytes: Uint8Array): void {
    if (this.pending && this.pending.type !== type) this.flush();
    this.pending ??= { type, chunks: [], size: 0 };
    this.pending.chunks.push(bytes);
    this.pending.size += bytes.length;
    if (this.pending.size >= this.batchBytes) this.flush();
  }

  readonly flush = (): void => {
    const batch = this.take();
    if (batch) send({ ...batch, id: this.id }, [batch.bytes.buffer as ArrayBuffer]);
  };

  /** What is not sent yet, in a new buffer to transfer (the guest's bytes may be a view the run still uses). */
  take(): OutputBatch | undefined {
    if (!this.pending) return undefined;
    const { type, chunks } = this.pending;
    this.pending = null;
    return { type, bytes: new Uint8Array(Buffer.concat(chunks)) };
  }

  /** The run's result, with the last batch of its output. */
  result(message: Omit<Extract<FromWorker, { type: 'result' }>, 'type' | 'id' | 'tail'>): void {
    const tail = this.take();
    send({ type: 'result', id: this.id, ...message, ...(tail ? { tail } : {}) }, tail ? [tail.bytes.buffer as ArrayBuffer] : []);
  }
}

const NO_ANSWER = JSON.stringify({ error: ['TimeoutError', 'the host did not answer before the time limit'] });

/** The Python session this worker keeps, as its engine's guest on the one Session. */
function pythonSession(setup: SessionData): Session {
  const gate = new HostCallGate(setup.granted);
  // Decoded here, on the guest's thread: a hostile request never costs the main thread (the watchdog's).
  const hostCall = (request: string | null, budgetMs: () => number, audit: AuditSink): string => {
    const call = gate.decode(request);
    if ('error' in call) return refusedCall(call, audit);
    const answer = hostCalls.call(carryCall(call), budgetMs) as CarriedAnswer | null;
    if (!answer) return NO_ANSWER;
    for (const { kind, detail } of answer.refused) audit(kind, detail);
    return answer.reply;
  };
  const engine = pythonEngine(setup.engine.name);
  engine.adopt(setup.engine.variant, setup.engine.shared);
  const guest = engine.guest({ variant: setup.engine.variant, guestSpec: setup.guestSpec, denied: setup.denied, vfs: setup.vfs, hostCall });
  return new Session(guest, { determinism: setup.determinism, interrupt: new Int32Array(setup.interrupt) }, setup.restored);
}

/** A module's granted host functions, each a call to the caller's thread; `beforeWait`: output so far goes out first. */
function proxies(job: Extract<ToWorker, { type: 'module' }>, deadline: number, timeoutMs: number, beforeWait: () => void): Record<string, HostFunction> {
  const out: Record<string, HostFunction> = {};
  for (const key of job.hostImports) {
    out[key] = (...args) => {
      beforeWait();
      const answer = hostCalls.call({ job: job.id, key, args }, () => deadline - monotonicMs()) as HostCallAnswer | null;
      if (!answer) throw new HostStop('timeout', `host function ${key} did not answer within the run's ${timeoutMs} ms deadline`);
      if ('error' in answer) throw new ModuleFault('HostFunctionError', `host function ${key} threw: ${answer.error}`);
      return answer.value as WasmValue | undefined; // a boolean or string converts as it would inline
    };
  }
  return out;
}

function runModuleJob(job: Extract<ToWorker, { type: 'module' }>): void {
  const { timeoutMs } = resolveWasmLimits(job.options.limits);
  const output = new OutputStream(job.id, BATCH_BYTES);
  const options: WasmRunOptions = { ...job.options, onStdout: output.callbacks.onStdoutBytes, onStderr: output.callbacks.onStderrBytes };
  if (job.hostImports.length) options.imports = proxies(job, monotonicMs() + timeoutMs, timeoutMs, output.flush);
  const { stdout: _o, stderr: _e, ...result } = runModule({ module: job.module, meta: job.meta }, job.entry, options, output.flush);
  output.result({ result });
}

const session = data.session ? pythonSession(data.session) : null;

function live(): Session {
  if (!session) throw new Error('this worker runs modules: it has no session');
  return session;
}

function runPython(msg: Extract<ToWorker, { type: 'run' }>): void {
  const s = live();
  if (msg.files) placeFiles(s.vfs, msg.files);
  const output = new OutputStream(msg.id, 0);
  const { stdout: _o, stderr: _e, ...result } = plainResult(s.run(msg.code, msg.limits, output.callbacks, msg.program));
  const out = msg.files?.collect;
  const collected = out ? collectFiles(s.vfs, out.dir, out.maxBytes) : undefined;
  output.result({ result, ...(collected ? { collected } : {}) });
  // Off the next run's path; also after a stop, whose fresh interpreter still has this run's files.
  if (msg.fresh) s.renew();
}

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'module') runModuleJob(msg);
    else if (msg.type === 'run') runPython(msg);
    else if (msg.type === 'fs') send({ type: 'fs', id: msg.id, result: runFsOp(live().vfs, msg.op) });
    else {
      const bytes = live().snapshot();
      send({ type: 'snapshot', id: msg.id, bytes }, [bytes.buffer as ArrayBuffer]);
    }
  } catch (e) {
    send({ type: 'failed', id: msg.id, message: (e as Error)?.message ?? String(e), usage: e instanceof UsageError });
  }
});
send({ type: 'ready' });
