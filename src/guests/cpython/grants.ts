// A CPython sandbox's grants as its runner applies them (host modules, network, import policy), and
// the host side of its channel: host calls go to the same bridge as MicroPython's (the gate decides
// every call), the value of the last expression is taken from its report.
import type { AuditSink } from '../../core/audit.js';
import { hostModuleNames, type HostBridge } from '../../capabilities/host-functions.js';
import { valueReportOf, type ValueReport } from '../python-common/program.js';
import type { ResolvedSandboxOptions } from '../../capabilities/resolved-options.js';
import type { RunErrorReport } from '../python-common/result.js';

/** Answers one host call; may block up to `budgetMs()`. Refusals go to `audit`. */
export type HostCallHandler = (request: string | null, budgetMs: () => number, audit: AuditSink) => string;

export interface CPythonGrants {
  /** JSON for the runner's setup: {modules: {name: {function: is_async}}, net, denied}. */
  json: string;
  /** Modules the guest may not import (sorted). */
  denied: readonly string[];
  hostCall: HostCallHandler;
}

export function cpythonGrants(resolved: ResolvedSandboxOptions, bridge: HostBridge): CPythonGrants {
  return {
    json: JSON.stringify({ modules: hostModuleNames(resolved.modules), net: resolved.net !== null, denied: resolved.denied }),
    denied: resolved.denied,
    hostCall: (request, budgetMs, audit) => bridge.callSync(request, budgetMs, audit),
  };
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

const NOT_ALLOWED_MODULE = /^module '([^']+)' is not allowed in this sandbox$/;

/**
 * Audits an import the policy denied. The message comes from the guest, so the module it names must
 * be one the host's policy denies (or a module inside one): a guest raising that text itself for
 * another name is not recorded.
 */
export function auditDeniedImport(error: RunErrorReport | null, denied: readonly string[], audit: AuditSink): void {
  if (error?.type !== 'ImportError') return;
  const name = NOT_ALLOWED_MODULE.exec(error.message)?.[1];
  if (name !== undefined && denied.some((d) => name === d || name.startsWith(`${d}.`))) audit('denied-import', name);
}
