// A synchronous call from one thread to another that answers asynchronously. The caller posts its
// request and blocks on a shared cell (Atomics.wait, bounded by a budget); the answering thread awaits
// its answer, posts it and wakes the caller, which reads it with receiveMessageOnPort. Used for host
// calls from a worker sandbox to the main thread, and for an inline sandbox's network requests,
// which a helper thread performs while the calling thread waits.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

interface Envelope<T> {
  seq: number;
  body: T;
}

/** Both ends of a new channel: give `port` and `signal` to the other thread. */
export function blockingChannel(): { local: MessagePort; port: MessagePort; signal: SharedArrayBuffer } {
  const { port1, port2 } = new MessageChannel();
  return { local: port1, port: port2, signal: new SharedArrayBuffer(4) };
}

/** The answering side: every request on `port` gets `answer(request)` back. */
export function serveBlockingCalls<Req, Res>(port: MessagePort, signal: SharedArrayBuffer, answer: (request: Req) => Promise<Res>): void {
  const cell = new Int32Array(signal);
  port.on('message', (msg: Envelope<Req>) => {
    void answer(msg.body).then((body) => {
      port.postMessage({ seq: msg.seq, body } satisfies Envelope<Res>);
      Atomics.store(cell, 0, msg.seq);
      Atomics.notify(cell, 0);
    });
  });
}

/** The calling side. */
export class BlockingCallClient<Req, Res> {
  private seq = 0;
  private readonly cell: Int32Array;

  constructor(
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
  ) {
    this.cell = new Int32Array(signal);
  }

  /** The answer, or null if none came within `budgetMs()`. */
  call(request: Req, budgetMs: () => number, transfer: ArrayBuffer[] = []): Res | null {
    const seq = ++this.seq;
    this.port.postMessage({ seq, body: request } satisfies Envelope<Req>, transfer);
    for (;;) {
      const seen = Atomics.load(this.cell, 0);
      const reply = this.take(seq);
      if (reply !== null) return reply.body;
      const budget = budgetMs();
      if (budget <= 0) return null;
      // Wakes as soon as the other side stores a new sequence number; the short cap only guards
      // against a reply that becomes readable a moment after its signal.
      Atomics.wait(this.cell, 0, seen, Math.min(budget, 20));
    }
  }

  /** The reply to `seq`, dropping replies to earlier calls that timed out. */
  private take(seq: number): Envelope<Res> | null {
    for (;;) {
      const msg = receiveMessageOnPort(this.port)?.message as Envelope<Res> | undefined;
      if (!msg) return null;
      if (msg.seq === seq) return msg;
    }
  }
}
