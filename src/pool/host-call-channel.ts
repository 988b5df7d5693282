// Host calls from a worker sandbox. The guest runs in the worker and must get its answer
// synchronously, while the host functions live on the main thread and may be async. The worker posts
// the request and blocks on a shared cell (Atomics.wait, bounded by the run's deadline); the main
// thread awaits the answer, posts it and wakes the worker, which reads it with receiveMessageOnPort.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

interface HostRequest {
  seq: number;
  request: string;
}
interface HostReply {
  seq: number;
  reply: string;
}

export interface ChannelEnds {
  /** Transferred to the worker with `signal`. */
  workerPort: MessagePort;
  signal: SharedArrayBuffer;
  /** Call when done with the worker. */
  close(): void;
}

/** Main thread: answers the worker's requests with `answer`. */
export function serveHostCalls(answer: (request: string) => Promise<string>): ChannelEnds {
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const cell = new Int32Array(signal);
  port1.on('message', (msg: HostRequest) => {
    void answer(msg.request).then((reply) => {
      port1.postMessage({ seq: msg.seq, reply } satisfies HostReply);
      Atomics.store(cell, 0, msg.seq);
      Atomics.notify(cell, 0);
    });
  });
  port1.unref();
  return { workerPort: port2, signal, close: () => port1.close() };
}

/** Worker thread: a blocking call; null if no answer came within `budgetMs`. */
export class HostCallClient {
  private seq = 0;
  private readonly cell: Int32Array;

  constructor(
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
  ) {
    this.cell = new Int32Array(signal);
  }

  call(request: string, budgetMs: () => number): string | null {
    const seq = ++this.seq;
    this.port.postMessage({ seq, request } satisfies HostRequest);
    for (;;) {
      const seen = Atomics.load(this.cell, 0);
      const reply = this.take(seq);
      if (reply !== null) return reply;
      const budget = budgetMs();
      if (budget <= 0) return null;
      // Wakes as soon as the main thread stores a new sequence number; the short cap only guards
      // against a reply that becomes readable a moment after its signal.
      Atomics.wait(this.cell, 0, seen, Math.min(budget, 20));
    }
  }

  /** The reply to `seq`, dropping replies to earlier calls that timed out. */
  private take(seq: number): string | null {
    for (;;) {
      const msg = receiveMessageOnPort(this.port)?.message as HostReply | undefined;
      if (!msg) return null;
      if (msg.seq === seq) return msg.reply;
    }
  }
}
