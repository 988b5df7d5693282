// The wire shapes every server shares (HTTP bodies, MCP tool inputs and outputs), as zod schemas so
// that validation and the published JSON Schemas come from one definition.
import * as z from 'zod';
import { AUDIT_EVENT_KINDS } from '../../core/audit.js';

export const LimitsSchema = z
  .strictObject({
    fuel: z.number().int().positive().optional().describe('fuel units (deterministic CPU budget)'),
    timeoutMs: z.number().int().positive().optional().describe('wall-clock limit in ms'),
    memoryBytes: z.number().int().positive().optional().describe('memory cap in bytes'),
    outputBytes: z.number().int().nonnegative().optional().describe('cap on stdout + stderr in bytes'),
  })
  .describe("lower limits for this call; each at most the server's own");

export const FilesSchema = z
  .record(z.string(), z.string())
  .describe('in-memory files the code starts with: { "/input/data.csv": "a,b\\n1,2\\n" }');

export const CodeSchema = z.string().describe('Python source (MicroPython 1.27)');

export const RunRequestSchema = z.strictObject({ code: CodeSchema, limits: LimitsSchema.optional(), files: FilesSchema.optional() });
export const SessionCreateSchema = z.strictObject({ files: FilesSchema.optional() });
export const SessionRunSchema = z.strictObject({ code: CodeSchema, limits: LimitsSchema.optional() });

export const RunErrorSchema = z.object({
  kind: z.enum(['python', 'fuel', 'timeout', 'memory', 'output', 'denied', 'fault']),
  type: z.string(),
  message: z.string(),
  traceback: z.string().nullable(),
  frames: z
    .array(z.object({ filename: z.string(), line: z.number().int(), name: z.string().nullable() }))
    .describe('the traceback as frames, outermost first'),
});

export const RunResultSchema = z.object({
  ok: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  error: RunErrorSchema.nullable(),
  usage: z.object({ fuel: z.number(), memoryPeakBytes: z.number(), wallMs: z.number() }),
  sandboxReplaced: z.boolean().describe('the interpreter was discarded after a hard stop: earlier session state is gone'),
  audit: z
    .object({
      events: z.array(z.object({ kind: z.enum(AUDIT_EVENT_KINDS), detail: z.string() })),
      dropped: z.number().int().describe('refusals beyond the 64 kept'),
    })
    .describe('what the sandbox refused the code during the run (denied imports, host calls, network, files)'),
});

export type RunResultJson = z.infer<typeof RunResultSchema>;
