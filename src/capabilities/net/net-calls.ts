// The host side of the guest's `requests` module: one internal host function, `__net__.request`,
// present only in sandboxes with a network grant.
import type { AuditSink } from '../../core/audit.js';
import type { HostValue } from '../host-codec.js';
import type { InternalHandler } from '../host-functions.js';
import type { NetPolicy } from './allow-list.js';
import type { NetRequest } from './guarded-fetch.js';
import { fetchAsync, fetchSync, type FetchOutcome } from './sync-fetch.js';

export const NET_REQUEST = '__net__.request';

/** The request as the guest's `requests` module sends it (see guest/requests.py). */
function toNetRequest(arg: HostValue): NetRequest {
  const r = (arg ?? {}) as Record<string, HostValue>;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, HostValue>)) headers[k] = String(v);
  return {
    method: String(r.method ?? 'GET'),
    url: String(r.url ?? ''),
    headers,
    body: r.body instanceof Uint8Array ? r.body : null,
    timeoutMs: typeof r.timeout === 'number' ? r.timeout * 1000 : null,
    allowRedirects: r.allow_redirects !== false,
  };
}

/** A PermissionError is the grant refusing the request (allow list or address check): audited. */
function toGuest(outcome: FetchOutcome, audit: AuditSink): HostValue {
  if ('error' in outcome) {
    if (outcome.error[0] === 'PermissionError') audit('network', outcome.error[1]);
    return { error: outcome.error };
  }
  const { status, reason, url, headers, body } = outcome.response;
  return { status, reason, url, headers, body };
}

export function netCalls(policy: NetPolicy): Record<string, InternalHandler> {
  return {
    [NET_REQUEST]: {
      sync: (args, budgetMs, audit) => toGuest(fetchSync(policy, toNetRequest(args[0]), budgetMs), audit),
      async: async (args, audit) => toGuest(await fetchAsync(policy, toNetRequest(args[0])), audit),
    },
  };
}
