// /openapi.json, generated from the same zod schemas that validate the requests: every operation
// named (operationId), every body a named component, every status the server answers listed.
import * as z from 'zod';
import { RunResultSchema, SessionCreateSchema, SessionRunSchema } from '../core/schemas.js';

const ErrorSchema = z
  .object({ error: z.object({ type: z.string().describe('bad_request, invalid_module, unauthorized, forbidden_host, not_found, too_large, unsupported_media_type, overloaded, shutting_down, internal'), message: z.string() }) })
  .describe('every error answer');
const SessionSchema = z.object({ id: z.string() });
const HealthSchema = z.object({ ok: z.boolean() });
const StreamLineSchema = z
  .union([
    z.object({ type: z.enum(['stdout', 'stderr']), text: z.string() }),
    z.object({ type: z.literal('result'), result: RunResultSchema }),
    z.object({ type: z.literal('error'), status: z.number().int(), error: ErrorSchema.shape.error }),
  ])
  .describe('one line of a streamed run (application/x-ndjson): output as written, then the result or an error');

/** Named zod schemas as components, each naming the others by $ref (requests as input, the rest as output). */
function components(schemas: Record<string, { schema: z.ZodType; io: 'input' | 'output' }>): Record<string, object> {
  const out: Record<string, object> = {};
  for (const io of ['input', 'output'] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, s] of Object.entries(schemas)) if (s.io === io) registry.add(s.schema, { id });
    const { schemas: json } = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
    for (const [id, schema] of Object.entries(json)) {
      const { $schema: _, $id: __, ...rest } = schema as Record<string, unknown>;
      out[id] = rest;
    }
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const error = (description: string) => ({ description, content: json('Error') });

const AUTH = { '401': error('missing or wrong bearer token (servers started with a token)') };
const GUARD = { '403': error('a Host header other than loopback on a loopback server (DNS rebinding)') };
const BODY = {
  '400': error('malformed JSON, a body that does not match the schema, or a request the server refuses (limits above its own, an engine it does not enable, a bad module)'),
  '413': error('body over the size limit'),
  '415': error('a body not sent as Content-Type: application/json'),
};
const BUSY = { '429': { ...error('too many runs in progress; retry after the Retry-After header'), headers: { 'Retry-After': { schema: { type: 'integer' } } } } };
const DOWN = { '500': error('internal error'), '503': error('the server is shutting down') };
const SESSION_ID = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

export function openApiDocument(version: string, runRequest: z.ZodType, serverUrl: string): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'pyfence',
      version,
      description: 'Run untrusted Python, or any WASI preview1 module, in a WebAssembly sandbox. Grants are the server’s; a request may only lower limits.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: components({
        RunRequest: { schema: runRequest, io: 'input' },
        SessionCreate: { schema: SessionCreateSchema, io: 'input' },
        SessionRun: { schema: SessionRunSchema, io: 'input' },
        RunResult: { schema: RunResultSchema, io: 'output' },
        RunStreamLine: { schema: StreamLineSchema, io: 'output' },
        Session: { schema: SessionSchema, io: 'output' },
        Health: { schema: HealthSchema, io: 'output' },
        Error: { schema: ErrorSchema, io: 'output' },
      }),
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/run': {
        post: {
          operationId: 'run',
          summary: 'Run Python (code) or a WebAssembly module (wat or wasm_base64) in a fresh sandbox',
          requestBody: { required: true, content: json('RunRequest') },
          responses: { '200': { description: 'the run result (a Python error or a stop is a result, not an HTTP error)', content: json('RunResult') }, ...BODY, ...AUTH, ...GUARD, ...BUSY, ...DOWN },
        },
      },
      '/v1/run/stream': {
        post: {
          operationId: 'runStream',
          summary: 'The same run, answered as it goes: NDJSON lines of output, then the result',
          requestBody: { required: true, content: json('RunRequest') },
          responses: {
            '200': { description: 'one RunStreamLine per line: stdout/stderr as written, then a result (or an error, with its status, if the run failed after the answer began)', content: { 'application/x-ndjson': { schema: ref('RunStreamLine') } } },
            ...BODY,
            ...AUTH,
            ...GUARD,
            ...BUSY,
            ...DOWN,
          },
        },
      },
      '/v1/sessions': {
        post: {
          operationId: 'createSession',
          summary: 'Start a persistent Python session',
          requestBody: { required: false, content: json('SessionCreate') },
          responses: { '201': { description: 'created', content: json('Session') }, ...BODY, ...AUTH, ...GUARD, ...BUSY, ...DOWN },
        },
      },
      '/v1/sessions/{id}/run': {
        post: {
          operationId: 'runInSession',
          summary: 'Run code in a session (globals persist)',
          parameters: SESSION_ID,
          requestBody: { required: true, content: json('SessionRun') },
          responses: { '200': { description: 'the run result', content: json('RunResult') }, '404': error('no such session'), ...BODY, ...AUTH, ...GUARD, ...BUSY, ...DOWN },
        },
      },
      '/v1/sessions/{id}/snapshot': {
        get: {
          operationId: 'getSessionSnapshot',
          summary: "The session's snapshot (restore it with Sandbox.restore)",
          parameters: SESSION_ID,
          responses: { '200': { description: 'snapshot bytes', content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } } }, '404': error('no such session'), ...AUTH, ...GUARD, ...DOWN },
        },
      },
      '/v1/sessions/{id}': {
        delete: { operationId: 'closeSession', summary: 'Close a session', parameters: SESSION_ID, responses: { '204': { description: 'closed' }, '404': error('no such session'), ...AUTH, ...GUARD, ...DOWN } },
      },
      '/openapi.json': {
        get: { operationId: 'getOpenApi', summary: 'This document', responses: { '200': { description: 'the OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } }, ...AUTH, ...GUARD, ...DOWN } },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness (no token needed)',
          security: [],
          responses: { '200': { description: 'serving', content: json('Health') }, ...GUARD, '503': { description: 'shutting down', content: json('Health') } },
        },
      },
    },
  };
}
