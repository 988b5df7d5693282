// One HTTP request for the guest, under the network grant: every hop of a redirect chain is checked
// against the allow list before it is contacted, the body is read up to the size cap, and the whole
// exchange is bounded in time. Runs on whichever thread answers the guest's host calls.
import { deniedReason, type NetPolicy } from './allow-list.js';

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

async function readCapped(res: Response, cap: number, url: URL): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () =>
    new NetError('TooLarge', `the response from ${url.host} is larger than the limit of ${cap} bytes`);
  if (Number.isFinite(declared) && declared > cap) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > cap) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

export async function guardedFetch(policy: NetPolicy, req: NetRequest): Promise<NetResponse> {
  const timeoutMs = Math.min(policy.timeoutMs, req.timeoutMs ?? Infinity);
  const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
  let url = checked(policy, parseUrl(req.url));
  let method = req.method.toUpperCase();
  let body = req.body;
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (!RESERVED_HEADERS.has(k.toLowerCase())) headers.set(k, v);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { method, headers, body: body as Uint8Array<ArrayBuffer> | null, redirect: 'manual', signal });
      const location = res.headers.get('location');
      if (!req.allowRedirects || res.status < 300 || res.status > 399 || location === null) {
        return {
          status: res.status,
          reason: res.statusText,
          url: url.href,
          headers: [...res.headers],
          body: await readCapped(res, policy.maxResponseBytes, url),
        };
      }
      await res.body?.cancel();
      if (hop === MAX_REDIRECTS) throw new NetError('ConnectionError', `more than ${MAX_REDIRECTS} redirects`);
      const next = checked(policy, parseUrl(new URL(location, url).href));
      // As browsers and requests do: 303 (and 301/302 after POST) continue as GET without a body;
      // credentials are not sent to another origin.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
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
    if (signal.aborted) throw new NetError('TimeoutError', `the request to ${url.host} took longer than ${timeoutMs} ms`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new NetError('ConnectionError', `cannot reach ${url.host}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}
