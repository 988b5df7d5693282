// A CPython sandbox's grants as its runner applies them (host modules, network, import policy), and
// the host side of its channel: host calls go to the same bridge as MicroPython's (the gate decides
// every call), the value of the last expression is taken from its report.
import type { AuditSink } from '../../core/audit.js';
import { valueReportOf, type ValueReport } from '../python-common/program.js';

/** Answers one host call; may block up to `budgetMs()`. Refusals go to `audit`. */
export type HostCallHandler = (request: string | null, budgetMs: () => number, audit: AuditSink) => string;

export interface CPythonGrants {
  /** JSON for the runner's setup: {modules: {name: {function: is_async}}, net, denied}. */
  json: string;
  /** Modules the guest may not import (sorted). */
  denied: readonly string[];
  hostCall: HostCallHandler;
}

const NO_REPLY = '{"ok":null}';

/** What a run's host channel does: value reports kept, everything else to `hostCall`, then `after`. */
export function runChannel(
  hostCall: HostCallHandler,
  budgetMs: () => number,
  audit: AuditSink,
  after: () => void,
): { hostCall(request: string | null): string; value(): ValueReport | null } {
  let value: ValueReport | null = null;
  return {
    hostCall(request) {
      const report = request === null ? null : valueReportOf(request);
      if (report) return (value = report), NO_REPLY;
      const reply = hostCall(request, budgetMs, audit);
      after(); // time spent in the host counts against the deadline
      return reply;
    },
    value: () => value,
  };
}
