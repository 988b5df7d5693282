// The network grant: which hosts and ports a sandbox may reach. Checked on the host for the first
// request and again for every redirect hop; the guest never sees a socket.
import { UsageError } from '../../core/errors.js';
import { canonicalAddress } from './address-ranges.js';

export interface NetGrant {
  /** 'api.example.com' (default ports 80/443), '*.example.org' (any subdomain), '127.0.0.1:8080', '[::1]:3000'. */
  allow: string[];
  /** Cap on one response body, in bytes. Default 5 MiB. */
  maxResponseBytes?: number;
  /** Cap on one request, redirects included, in ms. Default 10 s (the run's deadline applies too). */
  timeoutMs?: number;
}

export interface NetPolicy {
  rules: AllowRule[];
  maxResponseBytes: number;
  timeoutMs: number;
}

interface AllowRule {
  /** Lower-case host name or IP literal (IPv6 in brackets), or a suffix ".example.org" for wildcards. */
  host: string;
  wildcard: boolean;
  /** null: the scheme's default port only. */
  port: number | null;
}

const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

function parseRule(entry: unknown): AllowRule {
  if (typeof entry !== 'string' || entry.trim() === '') throw new UsageError('net.allow entries must be non-empty strings');
  const wildcard = entry.startsWith('*.');
  const bare = wildcard ? entry.slice(2) : entry;
  // Parse as a URL authority so host names and IP literals are normalised exactly as requests' are.
  let url: URL;
  try {
    url = new URL(`http://${bare}`);
  } catch {
    throw new UsageError(`net.allow: "${entry}" is not a host, host:port or *.domain`);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || bare.includes('/')) {
    throw new UsageError(`net.allow: "${entry}" must be a host, host:port or *.domain, without scheme or path`);
  }
  const explicitPort = /:\d+$/.test(bare);
  const port = explicitPort ? Number(bare.slice(bare.lastIndexOf(':') + 1)) : null;
  if (port !== null && (port < 1 || port > 65535)) throw new UsageError(`net.allow: bad port in "${entry}"`);
  return { host: wildcard ? `.${url.hostname}` : url.hostname, wildcard, port };
}

function positive(what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new UsageError(`net.${what} must be a positive integer`);
  return value;
}

export function resolveNetGrant(grant: unknown): NetPolicy | null {
  if (grant === undefined) return null;
  if (typeof grant !== 'object' || grant === null || Array.isArray(grant)) {
    throw new UsageError("net must be an object: { allow: ['api.example.com', ...] }");
  }
  for (const key of Object.keys(grant)) {
    if (!['allow', 'maxResponseBytes', 'timeoutMs'].includes(key)) {
      throw new UsageError(`unknown net option "${key}" (known: allow, maxResponseBytes, timeoutMs)`);
    }
  }
  const g = grant as NetGrant;
  if (!Array.isArray(g.allow)) throw new UsageError('net.allow must be an array of hosts');
  return {
    rules: g.allow.map(parseRule),
    maxResponseBytes: positive('maxResponseBytes', g.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
    timeoutMs: positive('timeoutMs', g.timeoutMs, DEFAULT_TIMEOUT_MS),
  };
}

/** Why a URL may not be fetched, or null if it may. */
export function deniedReason(policy: NetPolicy, url: URL): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `network access with scheme '${url.protocol.slice(0, -1)}' is not allowed in this sandbox (only http and https)`;
  }
  const host = url.hostname;
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
  const allowed = policy.rules.some(
    (r) =>
      (r.wildcard ? host.endsWith(r.host) && host.length > r.host.length : host === r.host) &&
      (r.port === null ? port === DEFAULT_PORTS[url.protocol] : port === r.port),
  );
  if (allowed) return null;
  return `network access to ${host}:${port} is not allowed in this sandbox`;
}

/**
 * True if a rule names this very address (an IP-literal rule, with the URL's port): the only way a
 * loopback, private or other special address may be reached (see address-ranges.ts).
 */
export function grantsAddress(policy: NetPolicy, url: URL, address: string): boolean {
  const host = canonicalAddress(address);
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
  return policy.rules.some((r) => !r.wildcard && r.host === host && (r.port === null ? port === DEFAULT_PORTS[url.protocol] : port === r.port));
}
