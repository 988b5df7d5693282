// /openapi.json, generated from the same zod schemas that validate the requests.
import * as z from 'zod';
import { RunResultSchema, SessionCreateSchema, SessionRunSchema } from '../core/schemas.js';

const ErrorSchema = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({ 'application/json': { schema: z.toJSONSchema(schema, { io }) } });
const error = (description: string) => ({ description, content: json(ErrorSchema) });
const COMMON = {
  '400': error('malformed JSON or a body that does not match the schema'),
  '401': error('missing or wrong bearer token'),
  '413': error('body over the size limit'),
  '429': error('too many runs in progress; retry after the Retry-After header'),
};
const SESSION_ID = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

export function openApiDocument(version: string, runRequest: z.ZodType): object {
  return {
    openapi: '3.1.0',
    info: { title: 'pyfence', version, description: 'Run untrusted Python, or any WASI preview1 module, in a WebAssembly sandbox. Grants are the server’s; a request may only lower limits.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/v1/run': {
        post: {
          summary: 'Run Python (code) or a WebAssembly module (wat or wasm_base64) in a fresh sandbox',
          requestBody: { required: true, content: json(runRequest, 'input') },
          responses: { '200': { description: 'the run result (a Python error is a result, not an HTTP error)', content: json(RunResultSchema) }, ...COMMON },
        },
      },
      '/v1/sessions': {
        post: {
          summary: 'Start a persistent session',
          requestBody: { required: false, content: json(SessionCreateSchema, 'input') },
          responses: { '201': { description: 'created', content: json(z.object({ id: z.string() })) }, ...COMMON },
        },
      },
      '/v1/sessions/{id}/run': {
        post: {
          summary: 'Run code in a session (globals persist)',
          parameters: SESSION_ID,
          requestBody: { required: true, content: json(SessionRunSchema, 'input') },
          responses: { '200': { description: 'the run result', content: json(RunResultSchema) }, '404': error('no such session'), ...COMMON },
        },
      },
      '/v1/sessions/{id}/snapshot': {
        get: {
          summary: "The session's snapshot (restore it with Sandbox.restore)",
          parameters: SESSION_ID,
          responses: { '200': { description: 'snapshot bytes', content: { 'application/octet-stream': {} } }, '404': error('no such session') },
        },
      },
      '/v1/sessions/{id}': {
        delete: { summary: 'Close a session', parameters: SESSION_ID, responses: { '204': { description: 'closed' }, '404': error('no such session') } },
      },
      '/healthz': { get: { summary: 'Liveness (no token needed)', security: [], responses: { '200': { description: 'ok' } } } },
    },
  };
}
