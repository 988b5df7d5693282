// The wire shapes of a WebAssembly run (the MCP tool run_wasm), as zod schemas: validation and the
// published JSON Schemas come from one definition.
import * as z from 'zod';
import { AUDIT_EVENT_KINDS } from '../../core/audit.js';
import { FilesSchema, LimitsSchema } from './schemas.js';

export const WasmRunInput = {
  wasm_base64: z.string().optional().describe('the module as base64 of its binary (.wasm); give this or wat'),
  wat: z.string().optional().describe('the module as WebAssembly text (.wat); give this or wasm_base64'),
  args: z.array(z.string()).optional().describe('argv, the program name first (default ["main.wasm"])'),
  env: z.record(z.string(), z.string()).optional().describe("environment values, only for names the server granted (its own values otherwise)"),
  stdin: z.string().optional().describe("the program's standard input"),
  files: FilesSchema.optional(),
  limits: LimitsSchema.optional(),
};

export const WasmRunResultSchema = z.object({
  ok: z.boolean().describe('the program ran to its end (returned or called proc_exit), whatever its exit code'),
  exitCode: z.number().int().describe("the program's exit code when ok; otherwise the stop's code (3 fuel, 4 timeout, 5 memory, 6 output, 7 denied, 8 fault)"),
  stdout: z.string(),
  stderr: z.string(),
  error: z
    .object({ kind: z.enum(['fuel', 'timeout', 'memory', 'output', 'denied', 'fault']), type: z.string(), message: z.string() })
    .nullable(),
  usage: z.object({ fuel: z.number(), memoryPeakBytes: z.number(), wallMs: z.number() }),
  audit: z
    .object({
      events: z.array(z.object({ kind: z.enum(AUDIT_EVENT_KINDS), detail: z.string() })),
      dropped: z.number().int().describe('refusals beyond the 64 kept'),
    })
    .describe('what the sandbox refused the module during the run (ungranted imports, paths outside its grants, writes, growth)'),
});

export type WasmRunResultJson = z.infer<typeof WasmRunResultSchema>;
