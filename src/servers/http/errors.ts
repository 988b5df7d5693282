// Every failure as a JSON body with a status the caller can act on.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { UsageError } from '../../core/errors.js';
import { SandboxFsError } from '../../capabilities/sandbox-fs.js';
import { OverloadError } from '../core/gate.js';
import { InvalidModuleError } from '../../instrument/load.js';
import { UnknownSessionError } from '../core/sessions.js';
import { errorBody } from '../core/error-body.js';

export class BadRequestError extends Error {
  override name = 'BadRequestError';
}

const RETRY_AFTER_S = '1';

/** The status and error body a failure is answered with. */
function classify(e: unknown): { status: ContentfulStatusCode; type: string; message: string } {
  if (e instanceof BadRequestError || e instanceof UsageError) return { status: 400, type: 'bad_request', message: e.message };
  if (e instanceof InvalidModuleError) return { status: 400, type: 'invalid_module', message: e.message };
  if (e instanceof UnknownSessionError) return { status: 404, type: 'not_found', message: e.message };
  if (e instanceof SandboxFsError) return { status: e.code === 'ENOENT' ? 404 : 400, type: 'fs_error', message: e.message };
  if (e instanceof OverloadError) return { status: 429, type: 'overloaded', message: e.message };
  process.stderr.write(`pyfence serve: internal error: ${(e as Error)?.stack ?? e}\n`);
  return { status: 500, type: 'internal', message: 'internal server error' };
}

export function errorResponse(c: Context, e: unknown): Response {
  const { status, type, message } = classify(e);
  if (status === 429) c.header('Retry-After', RETRY_AFTER_S);
  return c.json(errorBody(type, message), status);
}

/** A failure after a streamed answer began: its status and error body, as the stream's last line. */
export function errorLine(e: unknown): { status: number; error: { type: string; message: string } } {
  const { status, type, message } = classify(e);
  return { status, ...errorBody(type, message) };
}
