// Tracebacks as the user should read them: without the sandbox's own frames.
import type { TracebackFrame } from '../../core/errors.js';

/** Frames of the sandbox's own Python (prelude.ts, compiled as "<pyfence>") say nothing to the user. */
export function withoutSandboxFrames(traceback: string): string {
  return traceback.replace(/^  File "<pyfence>", line \d+, in .*\n/gm, '');
}

const WRAPPER_FRAME = '  File "<stdin>", line 1, in <module>\n';

/**
 * Code run inside a one-line wrapper call (top-level await, the REPL): the wrapper's frame, the
 * first, is not the user's; the user's own module frame follows it.
 */
export function withoutWrapperFrame(traceback: string): string {
  const at = traceback.indexOf(WRAPPER_FRAME);
  if (at < 0 || !/ {2}File "<stdin>", line \d+, in <module>\n/.test(traceback.slice(at + WRAPPER_FRAME.length))) return traceback;
  return traceback.slice(0, at) + traceback.slice(at + WRAPPER_FRAME.length);
}

/** The first frame of a run executed through `run_main` (program.ts) is the wrapper call's. */
export function withoutRunWrapperFrame(traceback: string): string {
  const at = traceback.indexOf(WRAPPER_FRAME);
  return at < 0 ? traceback : traceback.slice(0, at) + traceback.slice(at + WRAPPER_FRAME.length);
}

export type { TracebackFrame };

/** The frames of a printed traceback, outermost first (as printed). */
export function framesOf(traceback: string): TracebackFrame[] {
  const frames: TracebackFrame[] = [];
  for (const m of traceback.matchAll(/^ {2}File "([^"\n]*)", line (\d+)(?:, in (.*))?$/gm)) {
    frames.push({ filename: m[1], line: Number(m[2]), name: m[3] ?? null });
  }
  return frames;
}
