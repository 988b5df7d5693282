// How a Python run's outcome becomes an error kind, for both interpreters: the exceptions that mean a
// limit or a missing grant, the stops, the faults, and the audit of a denied import.
import type { AuditSink } from '../../core/audit.js';
import { stopInfo, stopOfPythonType, type StopReason } from '../../core/stop.js';
import type { RunErrorReport } from './result.js';

/** ImportErrors raised by the sandbox's policy (a denied module, a capability not granted). */
const POLICY_IMPORT_ERROR = /not allowed in this sandbox|not granted to this sandbox/;

/** A Python exception as the run's error. */
export function pythonError(type: string, message: string, traceback: string | null): RunErrorReport {
  const kind = type === 'ImportError' && POLICY_IMPORT_ERROR.test(message) ? 'denied' : (stopOfPythonType(type) ?? 'python');
  return { kind, type, message, traceback };
}

/** A limit stop as the run's error (with the traceback of where a soft stop landed). */
export function stopError(reason: StopReason, message: string, traceback: string | null = null): RunErrorReport {
  return { ...stopInfo(reason, message), traceback };
}

export function faultError(message: string): RunErrorReport {
  return { kind: 'fault', type: 'SandboxFault', message, traceback: null };
}

const NOT_ALLOWED_MODULE = /^module '([^']+)' is not allowed in this sandbox$/;

/**
 * Audits an import the policy denied. The message comes from the guest, so the module it names must
 * be one the host's policy denies (`denies`): a guest raising that text itself for another name is
 * not recorded.
 */
export function auditDeniedImport(error: RunErrorReport | null, denies: (name: string) => boolean, audit: AuditSink): void {
  if (error?.type !== 'ImportError') return;
  const name = NOT_ALLOWED_MODULE.exec(error.message)?.[1];
  if (name !== undefined && denies(name)) audit('denied-import', name);
}
