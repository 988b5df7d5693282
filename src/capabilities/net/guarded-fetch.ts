// One HTTP request for the guest, under the network grant: every hop of a redirect chain is checked
// against the allow list, and the address its host resolves to against the special ranges, before it
// is contacted (pinned-connection.ts); the body is read up to the size cap, and the whole exchange is
// bounded in time. Runs on whichever thread answers the guest's host calls.
import type { IncomingMessage } from 'node:http';
import { deniedReason, type NetPolicy } from './allow-list.js';
import { AddressRefused, checkedAddress, exchange } from './pinned-connection.js';

export interface NetRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  /** The guest's own timeout, if it gave one. */
  timeoutMs: number | null;
  allowRedirects: boolean;
}

export interface NetResponse {
  status: number;
  reason: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

export type NetErrorKind = 'PermissionError' | 'TimeoutError' | 'ConnectionError' | 'TooLarge' | 'InvalidURL';

export class NetError extends Error {
  constructor(
    readonly kind: NetErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const MAX_REDIRECTS = 10;
// Set by the transport, never by the guest (Host could name another virtual host than was checked).
const RESERVED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new NetError('InvalidURL', `invalid URL '${text}'`);
  }
}

function checked(policy: NetPolicy, url: URL): URL {
  const reason = deniedReason(policy, url);
  if (reason) throw new NetError('PermissionError', reason);
  return url;
}

async function readCapped(res: IncomingMessage, cap: number, url: URL, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length']);
  const tooLarge = () =>
    new NetError('TooLarge', `the response from ${url.host} is larger than the limit of ${cap} bytes`);
  if (Number.isFinite(declared) && declared > cap) {
    res.destroy();
    throw tooLarge();
  }
  const stop = () => res.destroy(new Error('aborted'));
  signal.addEventListener('abort', stop, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > cap) {
        res.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

/** Response headers as fetch gives them: lower-case names, repeated ones joined with ", ". */
function headerList(res: IncomingMessage): [string, string][] {
  const joined = new Map<string, string>();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i].toLowerCase();
    const value = res.rawHeaders[i + 1];
    joined.set(name, joined.has(name) ? `${joined.get(name)}, ${value}` : value);
  }
  return [...joined];
}

export async function guardedFetch(policy: NetPolicy, req: NetRequest): Promise<NetResponse> {
  const timeoutMs = Math.min(policy.timeoutMs, req.timeoutMs ?? Infinity);
  const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
  let url = checked(policy, parseUrl(req.url));
  let method = req.method.toUpperCase();
  let body = req.body;
  const headers = new Headers({ accept: '*/*', 'user-agent': 'pyfence' });
  for (const [k, v] of Object.entries(req.headers)) if (!RESERVED_HEADERS.has(k.toLowerCase())) headers.set(k, v);
  try {
    for (let hop = 0; ; hop++) {
      const pinned = await checkedAddress(policy, url, signal);
      const res = await exchange(url, pinned, { method, headers: Object.fromEntries(headers), body, signal });
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!req.allowRedirects || status < 300 || status > 399 || location === undefined) {
        return {
          status,
          reason: res.statusMessage ?? '',
          url: url.href,
          headers: headerList(res),
          body: method === 'HEAD' ? (res.destroy(), new Uint8Array()) : await readCapped(res, policy.maxResponseBytes, url, signal),
        };
      }
      res.destroy();
      if (hop === MAX_REDIRECTS) throw new NetError('ConnectionError', `more than ${MAX_REDIRECTS} redirects`);
      const next = checked(policy, parseUrl(new URL(location, url).href));
      // As browsers and requests do: 303 (and 301/302 after POST) continue as GET without a body;
      // credentials are not sent to another origin.
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = null;
        headers.delete('content-type');
      }
      if (next.origin !== url.origin) {
        headers.delete('authorization');
        headers.delete('cookie');
      }
      url = next;
    }
  } catch (e) {
    if (e instanceof NetError) throw e;
    if (e instanceof AddressRefused) throw new NetError('PermissionError', e.message);
    if (signal.aborted) throw new NetError('TimeoutError', `the request to ${url.host} took longer than ${timeoutMs} ms`);
    const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    throw new NetError('ConnectionError', `cannot reach ${url.host}: ${err.code ?? err.cause?.code ?? err.message}`);
  }
}
