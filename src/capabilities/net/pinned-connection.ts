// One HTTP exchange to the address that was checked. A host name is resolved here, every address it
// resolves to is checked (address-ranges.ts), and the connection goes to a checked address through a
// lookup that returns only it: the name is not resolved again between check and connect (no DNS
// rebinding). node:http is used rather than fetch because fetch offers no such hook without
// undici's Agent. No connection is pooled, so none is reused under another sandbox's grant.
// node:dns, node:http and node:https load when a request is made: most sandboxes never make one,
// and loading them (TLS with them) is a noticeable part of a process's start-up.
import type { IncomingMessage, RequestOptions } from 'node:http';
import type { LookupFunction } from 'node:net';
import { nodeNet } from '../../core/lazy-builtins.js';
import { specialAddressKind } from './address-ranges.js';
import { grantsAddress, type NetPolicy } from './allow-list.js';

export class AddressRefused extends Error {}

export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The URL's host without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The address to connect to: the first one the host resolves to that the policy lets it reach.
 * Throws AddressRefused naming what the host resolved to if there is none.
 */
export async function checkedAddress(policy: NetPolicy, url: URL, signal: AbortSignal): Promise<PinnedAddress> {
  const host = bareHost(url);
  const literal = nodeNet().isIP(host);
  const lookup = async () => (await import('node:dns/promises')).lookup(host, { all: true, verbatim: true });
  const found = literal ? [{ address: host, family: literal }] : await Promise.race([lookup(), aborted(signal)]);
  const refused: string[] = [];
  for (const { address, family } of found) {
    const kind = specialAddressKind(address);
    if (kind === null || grantsAddress(policy, url, address)) return { address, family: family === 6 ? 6 : 4 };
    refused.push(`${address} (${kind})`);
  }
  throw new AddressRefused(
    `network access to ${url.host} is not allowed in this sandbox: it resolves to ${refused.join(', ') || 'no address'}, ` +
      'which only a grant naming that address can reach',
  );
}

export interface Outgoing {
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  signal: AbortSignal;
}

/** Sends the request to `pinned` (TLS still verifies the URL's host name) and resolves with the response head. */
export async function exchange(url: URL, pinned: PinnedAddress, out: Outgoing): Promise<IncomingMessage> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const onlyPinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: PinnedAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const options: RequestOptions = {
    method: out.method,
    host: bareHost(url),
    port: url.port || undefined,
    path: url.pathname + url.search,
    headers: { ...out.headers, ...(out.body ? { 'content-length': String(out.body.length) } : {}) },
    lookup: onlyPinned,
    agent: false,
    signal: out.signal,
  };
  return new Promise((resolve, reject) => {
    const req = request(options, resolve);
    req.on('error', reject);
    req.end(out.body ?? undefined);
  });
}
