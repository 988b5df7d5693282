// The worker thread behind a WorkerSession: a session of either engine, driven by messages. Host calls
// block this thread until the main thread, which owns the host functions, answers.
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditSink } from '../core/audit.js';
import { adoptSandboxModule } from '../guests/micropython/module.js';
import { cpythonConfig } from '../guests/cpython/open.js';
import { CPythonSession } from '../guests/cpython/guest.js';
import { adoptCPythonTemplate } from '../guests/cpython/template.js';
import { UsageError } from '../core/errors.js';
import { InlineSession } from '../guests/micropython/guest.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { OutputCallbacks } from '../core/output.js';
import type { ProgramSpec } from '../guests/python-common/program.js';
import { plainResult, type RunResult } from '../guests/python-common/result.js';
import { buildVfs } from '../capabilities/resolved-options.js';
import { runFsOp } from '../capabilities/sandbox-fs.js';
import type { VirtualFS } from '../vfs/vfs.js';
import { BlockingCallClient } from '../core/blocking-call.js';
import { carryCall, type CarriedAnswer, type CarriedCall } from './host-call-transport.js';
import { HostCallGate } from '../capabilities/host-call-gate.js';
import { refusedCall } from '../capabilities/host-functions.js';
import type { FromWorker, ToWorker, WorkerData, WorkerEngine } from './worker-protocol.js';

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

/** What this thread runs, whichever the engine. */
interface WorkerGuest {
  readonly vfs: VirtualFS;
  run(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, program?: ProgramSpec): RunResult;
  snapshot(): Uint8Array;
  /** A fresh interpreter and files (a pool's next run). */
  renew(): void;
}

function micropythonGuest(engine: Extract<WorkerEngine, { name: 'micropython' }>): WorkerGuest {
  adoptSandboxModule(engine.variant, engine.module);
  return new InlineSession(
    engine.variant,
    {
      spec: data.guestSpec,
      determinism: data.determinism,
      denied: data.denied,
      vfs: () => buildVfs(data.vfs, data.restored?.files),
      interrupt,
      hostCall: (request, guard, audit) => hostCall(request, () => guard.waitBudgetMs(), audit),
    },
    data.restored?.state,
  );
}

function cpythonGuest(engine: Extract<WorkerEngine, { name: 'cpython' }>): WorkerGuest {
  adoptCPythonTemplate(engine.template);
  const grants = { json: engine.grants, denied: data.denied, hostCall };
  const session = new CPythonSession(cpythonConfig(data, grants, engine.variant, interrupt), engine.restored);
  return {
    get vfs() {
      return session.vfs;
    },
    run: (code, limits, callbacks, program) => session.run(code, limits, callbacks, program),
    snapshot: () => session.snapshot(),
    renew: () => session.renew(),
  };
}

const session = data.engine.name === 'cpython' ? cpythonGuest(data.engine) : micropythonGuest(data.engine);
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
    const result = session.run(msg.code, msg.limits, {
      onStdout: (text) => send({ type: 'stdout', id: msg.id, text }),
      onStderr: (text) => send({ type: 'stderr', id: msg.id, text }),
    }, msg.program);
    send({ type: 'result', id: msg.id, result: plainResult(result) });
    // Off the next run's path; also after a stop, whose fresh interpreter still has this run's files.
    if (msg.fresh) session.renew();
  } catch (e) {
    send({ type: 'failed', id: msg.id, message: (e as Error).message, usage: e instanceof UsageError });
  }
});
send({ type: 'ready' });
