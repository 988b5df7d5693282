// The CLI's exit status, as python3 and wasmtime give it: a program's own exit (`sys.exit(n)`,
// `raise SystemExit(n)`, proc_exit(n)) is its status; pyfence's stops keep their codes in EXIT_CODES.
import { EXIT_CODES, type ErrorKind, type RunErrorInfo } from '../python/errors.js';

export interface ExitStatus {
  /** What the process exits with. */
  code: number;
  /** The stop that ended the run (a limit, a denial, a fault), or null when the program ended by itself. */
  stop: Exclude<ErrorKind, 'python'> | null;
  /** `sys.exit("msg")`'s message, which python3 prints on stderr. */
  message?: string;
}

/** SystemExit's argument as the guest rendered it: MicroPython writes `SystemExit:` for no argument. */
function exitArgument(error: RunErrorInfo): string {
  const message = error.message.trim();
  return /^SystemExit:?$/.test(message) ? '' : message;
}

/** python3's rule: None is 0, an int is its low byte (as the OS keeps it), a bool is 0/1, anything else prints and is 1. */
function systemExitStatus(error: RunErrorInfo): { code: number; message?: string } {
  const arg = exitArgument(error);
  if (arg === '' || arg === 'None' || arg === 'False') return { code: 0 };
  if (arg === 'True') return { code: 1 };
  if (/^-?\d+$/.test(arg)) return { code: Number(BigInt.asUintN(8, BigInt(arg))) };
  return { code: 1, message: arg };
}

export function isSystemExit(error: RunErrorInfo | null): boolean {
  return error !== null && error.kind === 'python' && error.type === 'SystemExit';
}

/** A Python run's status: 0, the program's SystemExit status, 1 for an uncaught exception, or a stop's code. */
export function pythonExitStatus(error: RunErrorInfo | null): ExitStatus {
  if (error === null) return { code: EXIT_CODES.ok, stop: null };
  if (isSystemExit(error)) return { ...systemExitStatus(error), stop: null };
  if (error.kind === 'python') return { code: EXIT_CODES.python, stop: null };
  return { code: EXIT_CODES[error.kind], stop: error.kind };
}
