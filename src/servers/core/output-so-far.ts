// The output of a run in progress, for the servers' progress reports (MCP progress notifications,
// queue job progress): the last bytes of it, handed on at most every `everyMs`, so a program that
// prints in a tight loop costs the server a few reports a second, not one per write.
import type { RunWatch } from './runner.js';

export interface OutputProgress {
  /** Bytes written so far (stdout and stderr). */
  bytes: number;
  /** The last part of the output, interleaved as written. */
  tail: string;
}

export const PROGRESS_TAIL_CHARS = 2048;
export const PROGRESS_EVERY_MS = 250;

/** A watch that reports the output so far to `report`; `stop` drops a pending report (the result follows). */
export function watchOutput(report: (progress: OutputProgress) => void, everyMs = PROGRESS_EVERY_MS): RunWatch & { stop(): void } {
  let tail = '';
  let bytes = 0;
  let timer: NodeJS.Timeout | null = null;
  const send = () => {
    timer = null;
    report({ bytes, tail });
  };
  return {
    onOutput(_stream, text) {
      bytes += Buffer.byteLength(text);
      tail = (tail + text).slice(-PROGRESS_TAIL_CHARS);
      timer ??= setTimeout(send, everyMs);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
