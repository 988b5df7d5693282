// The worker thread behind a WorkerSession: an InlineSession driven by messages. Host calls block
// this thread until the main thread, which owns the host functions, answers.
import { parentPort, workerData } from 'node:worker_threads';
import { adoptSandboxModule } from '../engine/module.js';
import { InlineSession } from '../python/inline-session.js';
import { plainResult } from '../python/result.js';
import { buildVfs } from '../python/sessions.js';
import { runFsOp } from '../python/sandbox-fs.js';
import { BlockingCallClient } from './blocking-call.js';
import { carryCall, type CarriedAnswer, type CarriedCall } from './host-call-transport.js';
import { HostCallGate } from '../python/host-call-gate.js';
import { refusedCall } from '../python/host-functions.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as WorkerData;
adoptSandboxModule(data.variant, data.module);
const hostCalls = new BlockingCallClient<CarriedCall, CarriedAnswer>(data.hostPort, data.hostSignal);
const gate = new HostCallGate(data.granted);
const NO_ANSWER = JSON.stringify({ error: ['TimeoutError', 'the host did not answer before the time limit'] });
const session = new InlineSession(
  data.variant,
  {
    spec: data.guestSpec,
    determinism: data.determinism,
    denied: data.denied,
    vfs: () => buildVfs(data.vfs, data.restored?.files),
    interrupt: new Int32Array(data.interrupt),
    // Decoded here, on the guest's thread: a hostile request never costs the main thread (the watchdog's).
    hostCall: (request, guard, audit) => {
      const call = gate.decode(request);
      if ('error' in call) return refusedCall(call, audit);
      const answer = hostCalls.call(carryCall(call), () => guard.waitBudgetMs());
      if (!answer) return NO_ANSWER;
      for (const { kind, detail } of answer.refused) audit(kind, detail);
      return answer.reply;
    },
  },
  data.restored?.state,
);
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
    if (msg.fresh && !result.sandboxReplaced) session.renew(); // off the next run's path
  } catch (e) {
    send({ type: 'failed', id: msg.id, message: (e as Error).message });
  }
});
send({ type: 'ready' });
