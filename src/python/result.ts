import { errorFromInfo, type RunErrorInfo } from './errors.js';

export interface RunUsage {
  /** Fuel units used by this run (0 until metering is built in). */
  fuel: number;
  /** Highest size of the sandbox's linear memory during the run, in bytes. */
  memoryPeakBytes: number;
  wallMs: number;
}

export class RunResult {
  constructor(
    readonly ok: boolean,
    readonly stdout: string,
    readonly stderr: string,
    readonly error: RunErrorInfo | null,
    readonly usage: RunUsage,
    /**
     * True when the run ended in a hard stop or fault: the interpreter was discarded and the sandbox
     * continues from a fresh one, so globals from earlier runs are gone.
     */
    readonly sandboxReplaced: boolean,
  ) {}

  /** Throws the typed error for a failed run; returns the result otherwise. */
  throwIfError(): this {
    if (this.error) throw errorFromInfo(this.error);
    return this;
  }

  toJSON() {
    const { ok, stdout, stderr, error, usage, sandboxReplaced } = this;
    return { ok, stdout, stderr, error, usage, sandboxReplaced };
  }
}
