// Bearer-token check for the HTTP servers. Digests are compared in constant time, so the response
// time says nothing about how much of a guessed token was right.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './error-body.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function bearerAuth(token: string, open: readonly string[] = []): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (open.includes(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer (.+)$/i.exec(header)?.[1];
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="pyfence"');
      return c.json(errorBody('unauthorized', 'a valid bearer token is required'), 401);
    }
    return next();
  };
}
