// Collects a run's stdout and stderr, streams them to callbacks, and enforces the output cap.
import { HostStop } from './stop.js';

export interface OutputCallbacks {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** The same output as the bytes the guest wrote (a module's callers and a worker's stream take bytes). */
  onStdoutBytes?: (bytes: Uint8Array) => void;
  onStderrBytes?: (bytes: Uint8Array) => void;
}

class Stream {
  private readonly decoder = new TextDecoder();
  text = '';
  constructor(
    private readonly callback?: (text: string) => void,
    private readonly bytesCallback?: (bytes: Uint8Array) => void,
  ) {}
  push(bytes: Uint8Array, final = false): void {
    if (bytes.length) this.bytesCallback?.(bytes);
    const chunk = this.decoder.decode(bytes, { stream: !final });
    if (!chunk) return;
    this.text += chunk;
    this.callback?.(chunk);
  }
}

export class OutputCollector {
  private bytes = 0;
  private readonly out: Stream;
  private readonly err: Stream;

  constructor(
    private readonly limitBytes: number,
    callbacks: OutputCallbacks = {},
  ) {
    this.out = new Stream(callbacks.onStdout, callbacks.onStdoutBytes);
    this.err = new Stream(callbacks.onStderr, callbacks.onStderrBytes);
  }

  readonly stdout = (bytes: Uint8Array) => this.write(this.out, bytes);
  readonly stderr = (bytes: Uint8Array) => this.write(this.err, bytes);

  private write(stream: Stream, bytes: Uint8Array): void {
    const room = this.limitBytes - this.bytes;
    if (bytes.length > room) {
      stream.push(bytes.subarray(0, Math.max(0, room)));
      this.bytes = this.limitBytes;
      throw new HostStop('output', `output limit of ${this.limitBytes} bytes exceeded`);
    }
    this.bytes += bytes.length;
    stream.push(bytes);
  }

  /** Flushes partial UTF-8 sequences and returns the collected text. */
  finish(): { stdout: string; stderr: string } {
    this.out.push(new Uint8Array(0), true);
    this.err.push(new Uint8Array(0), true);
    return { stdout: this.out.text, stderr: this.err.text };
  }
}
