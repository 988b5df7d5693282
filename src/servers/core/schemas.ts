// The wire shapes every server shares (HTTP bodies, queue jobs, MCP tool inputs and outputs), as zod
// schemas so that validation and the published JSON Schemas come from one definition.
import * as z from 'zod';
import { AUDIT_EVENT_KINDS } from '../../core/audit.js';
import { ENGINES, engineLabel, type Engine } from './engines.js';

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
  .describe('in-memory files the run starts with: { "/input/data.csv": "a,b\\n1,2\\n" }');

/** The Python source field, naming the engines this server runs. */
export function codeSchema(engines: readonly Engine[]) {
  return z.string().describe(`Python source (${engines.map(engineLabel).join(' or ')})`);
}

export function engineSchema(engines: readonly Engine[]) {
  return z
    .enum(engines as [Engine, ...Engine[]])
    .describe(`the Python engine: ${engines.map((e) => `${e} (${engineLabel(e)})`).join(', ')}; default ${engines[0]}`);
}

/** The fields of a WebAssembly run: a module and what its WASI command line sees. */
export const ModuleFields = {
  wasm_base64: z.string().optional().describe('a WebAssembly module as base64 of its binary (.wasm); give this or wat'),
  wat: z.string().optional().describe('a WebAssembly module as text (.wat); give this or wasm_base64'),
  args: z.array(z.string()).optional().describe('argv of the module, the program name first (default ["main.wasm"])'),
  env: z.record(z.string(), z.string()).optional().describe('environment values, only for names the server granted (its own values otherwise)'),
  stdin: z.string().optional().describe("the module's standard input"),
};

/**
 * One run request for every server and engine: Python (`code`, with `engine`) or a WebAssembly
 * module (`wat` or `wasm_base64`, with `args`, `env`, `stdin`). Exactly one of the three is given;
 * the runner checks that, with a clear error.
 */
export function runRequestShape(engines: readonly Engine[]) {
  return {
    code: codeSchema(engines).optional(),
    engine: engineSchema(engines).optional(),
    ...ModuleFields,
    files: FilesSchema.optional(),
    limits: LimitsSchema.optional(),
  };
}

/** The request schema with every engine allowed: what a queue job carries, whatever its worker enables. */
export const RunRequestSchema = z.strictObject(runRequestShape(ENGINES)).describe('run Python (code) or a WebAssembly module (wat or wasm_base64)');
export type RunRequest = z.infer<typeof RunRequestSchema>;

export const SessionCreateSchema = z.strictObject({ files: FilesSchema.optional(), engine: engineSchema(ENGINES).optional() });
export const SessionRunSchema = z.strictObject({ code: codeSchema(ENGINES), limits: LimitsSchema.optional() });

export const RunErrorSchema = z.object({
  kind: z.enum(['python', 'fuel', 'timeout', 'memory', 'output', 'denied', 'fault']),
  type: z.string(),
  message: z.string(),
  traceback: z.string().nullable(),
  frames: z
    .array(z.object({ filename: z.string(), line: z.number().int(), name: z.string().nullable() }))
    .describe('the traceback as frames, outermost first'),
});

export const AuditSchema = z
  .object({
    events: z.array(z.object({ kind: z.enum(AUDIT_EVENT_KINDS), detail: z.string() })),
    dropped: z.number().int().describe('refusals beyond the 64 kept'),
  })
  .describe('what the sandbox refused the code during the run (denied imports, host calls, network, files)');

const CutSchema = z.object({ cutBytes: z.number().int(), cutLines: z.number().int() });

export const RunResultSchema = z.object({
  ok: z.boolean().describe('Python: the code ran to its end; a module: it returned or called proc_exit, whatever its exit code'),
  engine: z.enum([...ENGINES, 'wasm']).describe('what ran: a Python engine, or wasm for a module'),
  exitCode: z.number().int().optional().describe("a module's exit code when ok; otherwise the stop's code (3 fuel, 4 timeout, 5 memory, 6 output, 7 denied, 8 fault)"),
  stdout: z.string(),
  stderr: z.string(),
  error: RunErrorSchema.nullable(),
  usage: z.object({ fuel: z.number(), memoryPeakBytes: z.number(), wallMs: z.number() }),
  sandboxReplaced: z.boolean().describe('the interpreter was discarded after a hard stop: earlier session state is gone'),
  audit: AuditSchema,
  value: z
    .unknown()
    .optional()
    .describe("Python: the value of the code's last line when it is an expression other than None, as JSON data (tuples as arrays, bytes as base64, ints beyond 2^53 as strings)"),
  valueRepr: z.string().optional().describe('that value as Python shows it'),
  valueError: z.string().optional().describe('why the last expression has a value that cannot leave the sandbox (e.g. a function)'),
  files: z
    .array(
      z.object({
        path: z.string(),
        bytes: z.number().int(),
        mimeType: z.string(),
        base64: z.string().optional().describe('the content (HTTP and queue results; MCP gives it as image or resource content)'),
      }),
    )
    .optional()
    .describe('files a one-shot Python run wrote under /out/, within the server\'s byte budget'),
  filesOmitted: z.array(z.object({ path: z.string(), bytes: z.number().int() })).optional().describe('files under /out/ left out: over the budget'),
  truncated: z
    .object({ stdout: CutSchema.optional(), stderr: CutSchema.optional() })
    .optional()
    .describe("MCP: output left out of the middle of stdout/stderr to keep the result within the server's budget"),
});

export type RunResultJson = z.infer<typeof RunResultSchema>;
