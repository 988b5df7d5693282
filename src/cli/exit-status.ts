// The CLI's exit status, as python3 and wasmtime give it: a program's own exit (`sys.exit(n)`,
// `raise SystemExit(n)`, proc_exit(n)) is its status; pyfence's stops keep their codes in EXIT_CODES.
import { EXIT_CODES, type ErrorKind, type RunErrorInfo } from '../core/errors.js';

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

/** What each code in EXIT_CODES means, for --help and README's table. */
const MEANINGS: Record<keyof typeof EXIT_CODES, string> = {
  ok: 'the program finished (sys.exit(n) and SystemExit(n) exit with n, as python3)',
  python: 'uncaught Python exception, or sys.exit("message")',
  usage: 'usage error (unknown flag, unreadable file, bad value)',
  fuel: 'fuel exhausted',
  timeout: 'timeout',
  memory: 'memory limit',
  output: 'output limit',
  denied: 'denied by policy',
  fault: 'sandbox fault',
};

/** MEANINGS for a module's run: its exit code is the program's own, and modules have no Python. */
const MODULE_MEANINGS: Partial<Record<keyof typeof EXIT_CODES, string>> = {
  usage: 'usage error or invalid module',
  denied: 'denied (ungranted import)',
  fault: 'sandbox fault (trap, stack overflow)',
};

/** The exit-code table of --help, from EXIT_CODES: for Python runs, or for modules (`pyfence wasm`). */
export function exitCodeHelp(guest: 'python' | 'module' = 'python'): string {
  const kinds = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).filter((k) => guest === 'python' || (k !== 'ok' && k !== 'python'));
  const head = guest === 'python' ? 'Exit codes:' : "Exit codes: the program's own exit code when it ran to its end; otherwise";
  const meaning = (k: keyof typeof EXIT_CODES) => (guest === 'module' ? (MODULE_MEANINGS[k] ?? MEANINGS[k]) : MEANINGS[k]);
  return ['', head, ...kinds.map((k) => `  ${EXIT_CODES[k]}  ${meaning(k)}`)].join('\n');
}
