// One small set of error kinds, one exit code each (the CLI's contract), and a typed class per kind
// for callers who prefer exceptions over result values.

export type ErrorKind = 'python' | 'fuel' | 'timeout' | 'memory' | 'output' | 'denied' | 'fault';

export const EXIT_CODES = {
  ok: 0,
  python: 1,
  usage: 2,
  fuel: 3,
  timeout: 4,
  memory: 5,
  output: 6,
  denied: 7,
  fault: 8,
} as const satisfies Record<ErrorKind | 'ok' | 'usage', number>;

/** One line of a traceback: where the code was (`name` is null for a SyntaxError's location). */
export interface TracebackFrame {
  filename: string;
  line: number;
  name: string | null;
}

/** How any engine's run failed: the kind (and so the exit code), a type name and a message. */
export interface ErrorInfo {
  kind: ErrorKind;
  /** The guest's exception type name (e.g. "ValueError"), or a stop's short name (core/stop.ts). */
  type: string;
  message: string;
}

/** A Python run's error: the common part, with the traceback. */
export interface RunErrorInfo extends ErrorInfo {
  /** The Python traceback as MicroPython prints it, when there is one. */
  traceback: string | null;
  /** The traceback's frames, outermost first (empty when there is no traceback). */
  frames: TracebackFrame[];
}

export class PyfenceError extends Error {
  readonly kind: ErrorKind;
  readonly type: string;
  readonly traceback: string | null;
  readonly frames: TracebackFrame[];
  constructor(info: RunErrorInfo) {
    super(info.message);
    this.name = new.target.name;
    this.kind = info.kind;
    this.type = info.type;
    this.traceback = info.traceback;
    this.frames = info.frames;
  }
}
export class PythonError extends PyfenceError {}
export class FuelExhaustedError extends PyfenceError {}
export class TimeoutError extends PyfenceError {}
export class MemoryLimitError extends PyfenceError {}
export class OutputLimitError extends PyfenceError {}
export class DeniedError extends PyfenceError {}
export class SandboxFaultError extends PyfenceError {}

const CLASS_BY_KIND: Record<ErrorKind, new (info: RunErrorInfo) => PyfenceError> = {
  python: PythonError,
  fuel: FuelExhaustedError,
  timeout: TimeoutError,
  memory: MemoryLimitError,
  output: OutputLimitError,
  denied: DeniedError,
  fault: SandboxFaultError,
};

export function errorFromInfo(info: RunErrorInfo): PyfenceError {
  return new CLASS_BY_KIND[info.kind](info);
}

/** Thrown by the API (not by guest code) for invalid options or misuse, e.g. running a disposed sandbox. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
