// The worker thread behind a WorkerSession: an InlineSession driven by messages.
import { parentPort, workerData } from 'node:worker_threads';
import { InlineSession } from '../python/inline-session.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort!;
const session = new InlineSession((workerData as WorkerData).variant);
const send = (msg: FromWorker) => port.postMessage(msg);

port.on('message', (msg: ToWorker) => {
  try {
    const result = session.run(msg.code, msg.limits, {
      onStdout: (text) => send({ type: 'stdout', id: msg.id, text }),
      onStderr: (text) => send({ type: 'stderr', id: msg.id, text }),
    });
    send({ type: 'result', id: msg.id, result: result.toJSON() });
  } catch (e) {
    send({ type: 'failed', id: msg.id, message: (e as Error).message });
  }
});
send({ type: 'ready' });
