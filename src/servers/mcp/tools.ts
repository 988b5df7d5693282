// The MCP tools, over the shared runner and session store. Grants come from the server; a call may
// only lower limits. A failed run (including a fuel or time stop) is a tool result with isError, so
// the model sees the traceback and the stop reason instead of a protocol error.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { ENGINE_INFO, engineLabel } from '../core/engines.js';
import { MAX_WASM_MODULE_BYTES } from '../core/module-request.js';
import type { Runner, RunWatch } from '../core/runner.js';
import { watchOutput } from '../core/output-so-far.js';
import { codeSchema, engineSchema, FilesSchema, LimitsSchema, ModuleFields, RunResultSchema, type RunResultJson } from '../core/schemas.js';
import type { SessionStore } from '../core/sessions.js';
import { fitResult } from './budget.js';
import { IMAGE_TYPES, type OutFile } from '../core/out-files.js';

const SESSION_ID = z.string().describe('id from session_create');

function runResult(result: RunResultJson, budget: number): CallToolResult {
  const failed = !result.ok || (result.exitCode ?? 0) !== 0;
  // The files' bytes go as their own content items; the structured result lists them.
  const files = (result.files ?? []).filter((f): f is OutFile => f.base64 !== undefined);
  const listed = files.length ? { ...result, files: files.map(({ base64: _, ...f }) => f) } : result;
  const { json, text } = fitResult(listed, budget);
  return { content: [{ type: 'text', text }, ...files.map(fileContent)], structuredContent: json, isError: failed };
}

/** An /out/ file as a model sees it: a picture, or an embedded resource (text when it is UTF-8). */
function fileContent(file: OutFile): CallToolResult['content'][number] {
  if (IMAGE_TYPES.has(file.mimeType)) return { type: 'image', data: file.base64, mimeType: file.mimeType };
  const uri = `file://${file.path}`;
  const asText = decodeUtf8(Buffer.from(file.base64, 'base64'));
  return { type: 'resource', resource: asText === null ? { uri, mimeType: file.mimeType, blob: file.base64 } : { uri, mimeType: file.mimeType, text: asText } };
}

type Extra = { _meta?: { progressToken?: string | number }; sendNotification: (n: { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; message?: string } }) => Promise<void> };

/**
 * Runs `run` with progress notifications when the client gave a progress token: the bytes written
 * so far as the progress, the last of the output as the message.
 */
async function withProgress<T>(extra: Extra, run: (watch: RunWatch) => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  if (token === undefined) return run({});
  const watch = watchOutput((p) => {
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p.bytes, message: p.tail } }).catch(() => {});
  });
  try {
    return await run(watch);
  } finally {
    watch.stop();
  }
}

function text(value: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: value }], structuredContent: structured };
}

/** What the enabled engines are, for a model choosing how to write its code. */
function enginesNote(runner: Runner): string {
  return runner.engines
    .map((e, i) => `${i === 0 ? 'Default engine' : 'Also available'}: ${e} = ${engineLabel(e)} (${ENGINE_INFO[e].notes}).`)
    .join(' ');
}

export interface ToolOptions {
  version: string;
  /** Bytes one tool result's text, and its structuredContent, may each take. */
  resultBudgetBytes: number;
}

export function createMcpServer(runner: Runner, sessions: SessionStore, options: ToolOptions): McpServer {
  const server = new McpServer({ name: 'pyfence', version: options.version });
  const budget = options.resultBudgetBytes;
  const limitsNote = `Server limits: fuel ${runner.limits.fuel}, timeout ${runner.limits.timeoutMs} ms, memory ${runner.limits.memoryBytes} bytes.`;
  const engines = runner.engines;
  // A run touches nothing outside its sandbox; only a network grant reaches the outside world.
  const openWorld = runner.grants.net !== undefined;
  const runs: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: openWorld };
  const sessionWrites: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: openWorld };
  const reads: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

  server.registerTool(
    'run_python',
    {
      title: 'Run Python',
      description:
        `Run Python in a fresh sandbox: no network, files or host access unless the server grants them. ` +
        `Print what you want to see; the value of a last expression is shown too. Long output comes back as its head and tail (and as progress while it runs, given a progress token). Files written under /out/ come back (PNG, JPEG, GIF, SVG as images). ${enginesNote(runner)} ${limitsNote}`,
      inputSchema: { code: codeSchema(engines), engine: engineSchema(engines).optional(), limits: LimitsSchema.optional(), files: FilesSchema.optional() },
      outputSchema: RunResultSchema.shape,
      annotations: runs,
    },
    async ({ code, engine, limits, files }, extra) => runResult(await withProgress(extra, (watch) => runner.run({ code, engine, limits, files }, watch)), budget),
  );

  server.registerTool(
    'run_wasm',
    {
      title: 'Run WebAssembly',
      description:
        `Run a WebAssembly module as a WASI preview1 command (its _start) in a fresh instance: argv, env, stdin and in-memory files from the call, ` +
        `the server's mounts, nothing else (no network; any import other than wasi_snapshot_preview1 is refused). ` +
        `Give the module as wasm_base64 or as wat text, at most ${MAX_WASM_MODULE_BYTES} bytes. ${limitsNote}`,
      inputSchema: { ...ModuleFields, files: FilesSchema.optional(), limits: LimitsSchema.optional() },
      outputSchema: RunResultSchema.shape,
      annotations: { ...runs, openWorldHint: false },
    },
    async (request, extra) => runResult(await withProgress(extra, (watch) => runner.run(request, watch)), budget),
  );

  server.registerTool(
    'session_create',
    {
      title: 'Create a Python session',
      description: `Start a persistent Python session: variables, functions and files stay between session_run calls. Idle sessions expire. ${enginesNote(runner)}`,
      inputSchema: { files: FilesSchema.optional(), engine: engineSchema(engines).optional() },
      outputSchema: { session_id: z.string() },
      annotations: sessionWrites,
    },
    async ({ files, engine }) => {
      const id = await sessions.create(files, engine);
      return text(`session ${id} created`, { session_id: id });
    },
  );

  server.registerTool(
    'session_run',
    {
      title: 'Run Python in a session',
      description: `Run Python in a session created with session_create; globals from earlier runs are kept. ${limitsNote}`,
      inputSchema: { session_id: SESSION_ID, code: codeSchema(engines), limits: LimitsSchema.optional() },
      outputSchema: RunResultSchema.shape,
      annotations: sessionWrites,
    },
    async ({ session_id, code, limits }, extra) => runResult(await withProgress(extra, (watch) => sessions.run(session_id, code, limits, watch)), budget),
  );

  server.registerTool(
    'session_files',
    {
      title: "List a session's files",
      description: 'List a directory of the session’s filesystem (default /).',
      inputSchema: { session_id: SESSION_ID, path: z.string().optional() },
      outputSchema: { entries: z.array(z.object({ name: z.string(), kind: z.enum(['file', 'dir']) })) },
      annotations: reads,
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
      annotations: reads,
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
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
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
