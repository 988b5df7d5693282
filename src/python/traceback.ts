// Tracebacks as the user should read them: without the sandbox's own frames.

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
