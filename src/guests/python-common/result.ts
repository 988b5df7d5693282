import { emptyAudit, type Audit } from '../../core/audit.js';
import type { RunResultBase, RunUsage } from '../../core/result.js';
import { errorFromInfo, type RunErrorInfo } from '../../core/errors.js';
import type { HostValue } from '../../capabilities/host-codec.js';
import { decodeValue, type ValueReport } from './program.js';
import { framesOf } from './traceback.js';

interface PythonResultBase extends RunResultBase<RunErrorInfo> {
  /**
   * True when the run ended in a hard stop or fault: the interpreter was discarded and the sandbox
   * continues from a fresh one, so globals from earlier runs are gone.
   */
  readonly sandboxReplaced: boolean;
  /** Throws the typed error for a failed run; returns the result otherwise. */
  throwIfError(): RunSuccess;
  toJSON(): RunResultJSON;
}

/** A result as JSON (the CLI's --json, the servers): everything but the value. */
export type RunResultJSON = {
  ok: boolean;
  stdout: string;
  stderr: string;
  error: RunErrorInfo | null;
  usage: RunUsage;
  sandboxReplaced: boolean;
  audit: Audit;
};

/** A run that finished: normally, or with `sys.exit(0)`. */
export interface RunSuccess extends PythonResultBase {
  readonly ok: true;
  readonly error: null;
  /**
   * The value of the program's last statement when it is an expression (as Python's REPL shows it),
   * as data (see HostValue); undefined when there is none, it is None, or it cannot leave the
   * sandbox (then `valueError` says why). Not for programs with a top-level `await`.
   */
  readonly value: HostValue | undefined;
  /** Why the last expression's value is not in `value` (e.g. it is a function), or null. */
  readonly valueError: string | null;
}

/** A run that ended in an exception, a limit, a denial or a fault. */
export interface RunFailure extends PythonResultBase {
  readonly ok: false;
  readonly error: RunErrorInfo;
  readonly value: undefined;
  readonly valueError: null;
}

/** What `run` resolves to: narrow it on `ok`. */
export type RunResult = RunSuccess | RunFailure;

/** An error as a session reports it; frames are derived from the traceback when absent. */
export type RunErrorReport = Omit<RunErrorInfo, 'frames'> & { frames?: RunErrorInfo['frames'] };

/** What crosses from a worker thread (structured-clone safe: the value stays wire JSON). */
export interface PlainResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  error: RunErrorReport | null;
  usage: RunUsage;
  sandboxReplaced: boolean;
  audit: Audit;
  valueReport?: ValueReport | null;
}

/** A run's result in the form that crosses from a worker thread. */
export function plainResult(result: RunResult): PlainResult {
  return (result as unknown as RunOutcome).toPlain();
}

export class RunOutcome {
  readonly error: RunErrorInfo | null;
  private decoded: ReturnType<typeof decodeValue> | null = null;

  constructor(
    readonly ok: boolean,
    readonly stdout: string,
    readonly stderr: string,
    error: RunErrorReport | null,
    readonly usage: RunUsage,
    readonly sandboxReplaced: boolean,
    private readonly valueReport: ValueReport | null = null,
    readonly audit: Audit = emptyAudit(),
  ) {
    this.error = error && { ...error, frames: error.frames ?? framesOf(error.traceback ?? '') };
  }

  static fromPlain(p: PlainResult): RunResult {
    return new RunOutcome(p.ok, p.stdout, p.stderr, p.error, p.usage, p.sandboxReplaced, p.valueReport ?? null, p.audit).typed();
  }

  /** Decoded on first access: most callers never look at the value. */
  private get decodedValue() {
    return (this.decoded ??= this.ok ? decodeValue(this.valueReport) : { value: undefined, error: null });
  }

  get value(): HostValue | undefined {
    return this.decodedValue.value;
  }

  get valueError(): string | null {
    return this.decodedValue.error;
  }

  /** This object under the discriminated type (ok and error always agree). */
  typed(): RunResult {
    return this as unknown as RunResult;
  }

  throwIfError(): RunSuccess {
    if (this.error) throw errorFromInfo(this.error);
    return this as unknown as RunSuccess;
  }

  toPlain(): PlainResult {
    const { ok, stdout, stderr, error, usage, sandboxReplaced, audit, valueReport } = this;
    return { ok, stdout, stderr, error, usage, sandboxReplaced, audit, valueReport };
  }

  /** The CLI's --json shape; the value is left out (bigint, bytes and tuples have no JSON form). */
  toJSON(): RunResultJSON {
    const { ok, stdout, stderr, error, usage, sandboxReplaced, audit } = this;
    return { ok, stdout, stderr, error, usage, sandboxReplaced, audit };
  }
}
