// Every failure as a JSON body with a status the caller can act on.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { UsageError } from '../../core/errors.js';
import { SandboxFsError } from '../../capabilities/sandbox-fs.js';
import { OverloadError } from '../core/gate.js';
import { UnknownSessionError } from '../core/sessions.js';
import { errorBody } from '../core/error-body.js';

export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

const RETRY_AFTER_S = '1';

export function errorResponse(c: Context, e: unknown): Response {
  const reply = (status: ContentfulStatusCode, type: string, message: string) => c.json(errorBody(type, message), status);
  if (e instanceof BadRequestError || e instanceof UsageError) return reply(400, 'bad_request', e.message);
  if (e instanceof UnknownSessionError) return reply(404, 'not_found', e.message);
  if (e instanceof SandboxFsError) return reply(e.code === 'ENOENT' ? 404 : 400, 'fs_error', e.message);
  if (e instanceof OverloadError) {
    c.header('Retry-After', RETRY_AFTER_S);
    return reply(429, 'overloaded', e.message);
  }
  process.stderr.write(`pyfence serve: internal error: ${(e as Error)?.stack ?? e}\n`);
  return reply(500, 'internal', 'internal server error');
}
