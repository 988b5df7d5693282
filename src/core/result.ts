// What every engine's run gives back: Python results and module results extend this base.
import type { Audit } from './audit.js';
import type { ErrorInfo } from './errors.js';

export interface RunUsage {
  /** Fuel units used by this run. */
  fuel: number;
  /** Highest size of the guest's linear memory during the run, in bytes. */
  memoryPeakBytes: number;
  wallMs: number;
}

export interface RunResultBase<E extends ErrorInfo = ErrorInfo> {
  /** False when the run ended in an error: an exception, a limit, a denial or a fault. */
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: E | null;
  readonly usage: RunUsage;
  /**
   * What the guest was refused during the run (denied imports, ungranted host calls, blocked network
   * requests, file operations outside its grants), as the host decided it: at most 64 events, the
   * rest counted in `dropped`.
   */
  readonly audit: Audit;
}
