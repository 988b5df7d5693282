// A server on loopback is still reachable from the user's browser. Two guards keep web pages out:
// - a POST must say `Content-Type: application/json`, which a cross-origin page cannot send without
//   a CORS preflight (never answered here), so a form or a text/plain fetch cannot start a run;
// - on a loopback bind, the Host header must name loopback, so a DNS-rebound name is refused.
import type { MiddlewareHandler } from 'hono';
import { isLoopback } from './bind.js';
import { errorBody } from './error-body.js';

function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(header);
  return bracketed ? bracketed[1] : header.replace(/:\d+$/, '');
}

export function browserGuard(boundHost: string): MiddlewareHandler {
  const checkHost = isLoopback(boundHost);
  return async (c, next) => {
    if (checkHost && !isLoopback(hostName(c.req.header('host') ?? ''))) {
      return c.json(errorBody('forbidden_host', 'this server answers only to a loopback Host header'), 403);
    }
    const type = c.req.header('content-type') ?? '';
    if (c.req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(type)) {
      return c.json(errorBody('unsupported_media_type', 'send the body as Content-Type: application/json'), 415);
    }
    return next();
  };
}
