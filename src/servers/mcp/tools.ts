// The MCP tools, over the shared runner and session store. Grants come from the server; a call may
// only lower limits. A failed run (including a fuel or time stop) is a tool result with isError, so
// the model sees the traceback and the stop reason instead of a protocol error.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import type { RunResult } from '../../guests/python-common/result.js';
import { describeResult } from '../core/describe-result.js';
import type { Runner } from '../core/runner.js';
import { CodeSchema, FilesSchema, LimitsSchema, RunResultSchema } from '../core/schemas.js';
import type { SessionStore } from '../core/sessions.js';
import { describeWasmResult } from '../core/describe-wasm-result.js';
import { MAX_WASM_MODULE_BYTES, type WasmRunner } from '../core/wasm-runner.js';
import { WasmRunInput, WasmRunResultSchema } from '../core/wasm-schemas.js';

const SESSION_ID = z.string().describe('id from session_create');

function runResult(result: RunResult): CallToolResult {
  const json = result.toJSON();
  return { content: [{ type: 'text', text: describeResult(json) }], structuredContent: json, isError: !json.ok };
}

function text(value: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: value }], structuredContent: structured };
}

export function createMcpServer(runner: Runner, sessions: SessionStore, wasm: WasmRunner, version: string): McpServer {
  const server = new McpServer({ name: 'pyfence', version });
  const limitsNote = `Server limits: fuel ${runner.limits.fuel}, timeout ${runner.limits.timeoutMs} ms, memory ${runner.limits.memoryBytes} bytes.`;

  server.registerTool(
    'run_python',
    {
      title: 'Run Python',
      description: `Run Python (MicroPython) in a fresh sandbox: no network, files or host access unless the server grants them. Print what you want to see. ${limitsNote}`,
      inputSchema: { code: CodeSchema, limits: LimitsSchema.optional(), files: FilesSchema.optional() },
      outputSchema: RunResultSchema.shape,
    },
    async ({ code, limits, files }) => runResult(await runner.run({ code, limits, files })),
  );

  server.registerTool(
    'run_wasm',
    {
      title: 'Run WebAssembly',
      description:
        `Run a WebAssembly module as a WASI preview1 command (its _start) in a fresh instance: argv, env, stdin and in-memory files from the call, ` +
        `the server's mounts, nothing else (no network; any import other than wasi_snapshot_preview1 is refused). ` +
        `Give the module as wasm_base64 or as wat text, at most ${MAX_WASM_MODULE_BYTES} bytes. ${limitsNote}`,
      inputSchema: WasmRunInput,
      outputSchema: WasmRunResultSchema.shape,
    },
    async (request) => {
      const result = await wasm.run(request);
      return { content: [{ type: 'text', text: describeWasmResult(result) }], structuredContent: { ...result }, isError: !result.ok || result.exitCode !== 0 };
    },
  );

  server.registerTool(
    'session_create',
    {
      title: 'Create a Python session',
      description: 'Start a persistent Python session: variables, functions and files stay between session_run calls. Idle sessions expire.',
      inputSchema: { files: FilesSchema.optional() },
      outputSchema: { session_id: z.string() },
    },
    async ({ files }) => {
      const id = await sessions.create(files);
      return text(`session ${id} created`, { session_id: id });
    },
  );

  server.registerTool(
    'session_run',
    {
      title: 'Run Python in a session',
      description: `Run Python in a session created with session_create; globals from earlier runs are kept. ${limitsNote}`,
      inputSchema: { session_id: SESSION_ID, code: CodeSchema, limits: LimitsSchema.optional() },
      outputSchema: RunResultSchema.shape,
    },
    async ({ session_id, code, limits }) => runResult(await sessions.run(session_id, code, limits)),
  );

  server.registerTool(
    'session_files',
    {
      title: "List a session's files",
      description: 'List a directory of the session’s filesystem (default /).',
      inputSchema: { session_id: SESSION_ID, path: z.string().optional() },
      outputSchema: { entries: z.array(z.object({ name: z.string(), kind: z.enum(['file', 'dir']) })) },
    },
    async ({ session_id, path }) => {
      const entries = await sessions.list(session_id, path ?? '/');
      const listing = entries.map((e) => (e.kind === 'dir' ? `${e.name}/` : e.name)).join('\n');
      return text(listing || '(empty)', { entries });
    },
  );

  server.registerTool(
    'session_read_file',
    {
      title: 'Read a file from a session',
      description: 'Read a file the session wrote or was given (text; binary files come back as base64).',
      inputSchema: { session_id: SESSION_ID, path: z.string() },
      outputSchema: { encoding: z.enum(['utf8', 'base64']), content: z.string() },
    },
    async ({ session_id, path }) => {
      const bytes = await sessions.readFile(session_id, path);
      const asText = decodeUtf8(bytes);
      const file = asText === null ? { encoding: 'base64' as const, content: Buffer.from(bytes).toString('base64') } : { encoding: 'utf8' as const, content: asText };
      return text(file.content, file);
    },
  );

  server.registerTool(
    'session_close',
    {
      title: 'Close a session',
      description: 'Close a session and free its interpreter.',
      inputSchema: { session_id: SESSION_ID },
    },
    async ({ session_id }) => {
      await sessions.close(session_id);
      return text(`session ${session_id} closed`);
    },
  );
  return server;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
