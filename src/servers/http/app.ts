// The HTTP API as a hono app: validated JSON in, run results out, over the shared runner and sessions.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as z from 'zod';
import { bearerAuth } from '../core/http-auth.js';
import type { Runner } from '../core/runner.js';
import { runRequestShape, SessionCreateSchema, SessionRunSchema } from '../core/schemas.js';
import { formatIssues } from '../core/issues.js';
import type { SessionStore } from '../core/sessions.js';
import { browserGuard } from '../core/browser-guard.js';
import { errorBody } from '../core/error-body.js';
import { BadRequestError, errorLine, errorResponse } from './errors.js';
import { openApiDocument } from './openapi.js';

export interface HttpApiOptions {
  runner: Runner;
  sessions: SessionStore;
  token?: string;
  /** The address the server is bound to (a loopback bind only answers loopback Host headers). */
  host: string;
  maxBodyBytes: number;
  version: string;
  /** True once shutdown has begun: new work is refused with 503. */
  draining: () => boolean;
}

async function readBody<S extends z.ZodType>(c: Context, schema: S, optional = false): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown;
  if (optional && text.trim() === '') value = {};
  else {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new BadRequestError(`malformed JSON: ${(e as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new BadRequestError(`invalid request: ${formatIssues(parsed.error)}`);
  }
  return parsed.data;
}

export function createHttpApi(options: HttpApiOptions): Hono {
  const { runner, sessions } = options;
  const runRequest = z.strictObject(runRequestShape(runner.engines));
  const app = new Hono();
  app.onError((e, c) => errorResponse(c, e));
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404));

  app.use('*', browserGuard(options.host));
  app.get('/healthz', (c) => c.json({ ok: !options.draining() }, options.draining() ? 503 : 200));
  if (options.token) app.use('*', bearerAuth(options.token, ['/healthz']));
  app.use('*', async (c, next) => {
    if (options.draining()) return c.json(errorBody('shutting_down', 'the server is shutting down'), 503);
    return next();
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) => c.json(errorBody('too_large', `request body over ${options.maxBodyBytes} bytes`), 413),
    }),
  );

  app.get('/openapi.json', (c) => c.json(openApiDocument(options.version, runRequest, new URL(c.req.url).origin)));

  app.post('/v1/run', async (c) => {
    const body = await readBody(c, runRequest);
    return c.json(await runner.run(body));
  });

  // The same run, answered as it goes: NDJSON lines {"type":"stdout"|"stderr","text"} as the program
  // writes, then {"type":"result","result":{...}} (or {"type":"error","error":{...}} if it failed
  // after the answer began). A bad request or a full server is answered with its status first.
  app.post('/v1/run/stream', async (c) => {
    const body = await readBody(c, runRequest);
    runner.check(body);
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const line = (value: object) => controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        try {
          const result = await runner.run(body, { onOutput: (type, text) => line({ type, text }) });
          line({ type: 'result', result });
        } catch (e) {
          line({ type: 'error', ...errorLine(e) });
        }
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache' } });
  });

  app.post('/v1/sessions', async (c) => {
    const body = await readBody(c, SessionCreateSchema, true);
    return c.json({ id: await sessions.create(body.files, body.engine) }, 201);
  });

  app.post('/v1/sessions/:id/run', async (c) => {
    const body = await readBody(c, SessionRunSchema);
    return c.json(await sessions.run(c.req.param('id'), body.code, body.limits));
  });

  app.get('/v1/sessions/:id/snapshot', async (c) => {
    const bytes = await sessions.snapshot(c.req.param('id'));
    return c.body(bytes.slice().buffer as ArrayBuffer, 200, { 'Content-Type': 'application/octet-stream' });
  });

  app.delete('/v1/sessions/:id', async (c) => {
    await sessions.close(c.req.param('id'));
    return c.body(null, 204);
  });
  return app;
}
