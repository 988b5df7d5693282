// The worker thread behind a WorkerSession: the one Session over the engine's guest, driven by messages. Host calls
// block this thread until the main thread, which owns the host functions, answers.
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditSink } from '../core/audit.js';
import { UsageError } from '../core/errors.js';
import { plainResult } from '../guests/python-common/result.js';
import { pythonEngine } from '../guests/registry.js';
import { Session } from '../session/session.js';
import { runFsOp } from '../capabilities/sandbox-fs.js';
import { BlockingCallClient } from '../core/blocking-call.js';
import { collectFiles, placeFiles } from './run-files.js';
import { carryCall, type CarriedAnswer, type CarriedCall } from './host-call-transport.js';
import { HostCallGate } from '../capabilities/host-call-gate.js';
import { refusedCall } from '../capabilities/host-functions.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as WorkerData;
const interrupt = new Int32Array(data.interrupt);
const hostCalls = new BlockingCallClient<CarriedCall, CarriedAnswer>(data.hostPort, data.hostSignal);
const gate = new HostCallGate(data.granted);
const NO_ANSWER = JSON.stringify({ error: ['TimeoutError', 'the host did not answer before the time limit'] });

/**
 * One host call of the guest, answered by the main thread within `budgetMs()`, for either engine.
 * Decoded here, on the guest's thread: a hostile request never costs the main thread (the watchdog's).
 */
function hostCall(request: string | null, budgetMs: () => number, audit: AuditSink): string {
  const call = gate.decode(request);
  if ('error' in call) return refusedCall(call, audit);
  const answer = hostCalls.call(carryCall(call), budgetMs);
  if (!answer) return NO_ANSWER;
  for (const { kind, detail } of answer.refused) audit(kind, detail);
  return answer.reply;
}

const engine = pythonEngine(data.engine.name);
engine.adopt(data.engine.variant, data.engine.shared);
const setup = { variant: data.engine.variant, guestSpec: data.guestSpec, denied: data.denied, vfs: data.vfs, hostCall };
const session = new Session(engine.guest(setup), { determinism: data.determinism, interrupt }, data.restored);
const send = (msg: FromWorker) => port.postMessage(msg);

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'fs') {
      send({ type: 'fs', id: msg.id, result: runFsOp(session.vfs, msg.op) });
      return;
    }
    if (msg.type === 'snapshot') {
      const bytes = session.snapshot();
      port.postMessage({ type: 'snapshot', id: msg.id, bytes } satisfies FromWorker, [bytes.buffer as ArrayBuffer]);
      return;
    }
    if (msg.files) placeFiles(session.vfs, msg.files);
    const result = session.run(msg.code, msg.limits, {
      onStdout: (text) => send({ type: 'stdout', id: msg.id, text }),
      onStderr: (text) => send({ type: 'stderr', id: msg.id, text }),
    }, msg.program);
    const out = msg.files?.collect;
    const collected = out ? collectFiles(session.vfs, out.dir, out.maxBytes) : undefined;
    send({ type: 'result', id: msg.id, result: plainResult(result), ...(collected ? { collected } : {}) });
    // Off the next run's path; also after a stop, whose fresh interpreter still has this run's files.
    if (msg.fresh) session.renew();
  } catch (e) {
    send({ type: 'failed', id: msg.id, message: (e as Error).message, usage: e instanceof UsageError });
  }
});
send({ type: 'ready' });
