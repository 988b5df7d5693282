// `pyfence mcp` as library calls: the tools over stdio (one client, the parent process) or over
// streamable HTTP (stateless: each request gets its own protocol server; pyfence sessions outlive them).
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import { browserGuard } from '../core/browser-guard.js';
import { bearerAuth } from '../core/http-auth.js';
import { checkBind } from '../core/bind.js';
import { listenServing } from '../core/listen.js';
import { Runner, type RunnerOptions } from '../core/runner.js';
import { SessionStore, type SessionStoreOptions } from '../core/sessions.js';
import { DEFAULT_RESULT_BUDGET_BYTES, MIN_RESULT_BUDGET_BYTES } from './budget.js';
import { createMcpServer, type ToolOptions } from './tools.js';
import { UsageError } from '../../core/errors.js';

export interface McpOptions extends RunnerOptions, SessionStoreOptions {
  version: string;
  /** Bytes one tool result's text, and its structuredContent, may each take. Default 24 KiB. */
  resultBudgetBytes?: number;
}

function toolOptions(options: McpOptions): ToolOptions {
  const budget = options.resultBudgetBytes ?? DEFAULT_RESULT_BUDGET_BYTES;
  if (!Number.isInteger(budget) || budget < MIN_RESULT_BUDGET_BYTES) throw new UsageError(`the result budget must be at least ${MIN_RESULT_BUDGET_BYTES} bytes`);
  return { version: options.version, resultBudgetBytes: budget };
}

export interface McpHttpOptions extends McpOptions {
  host: string;
  port: number;
  token?: string;
  maxBodyBytes: number;
}

export interface RunningMcp {
  /** The endpoint, for HTTP. */
  url?: string;
  /** Resolves when the server has stopped (stdin closed, or `close` called). */
  closed: Promise<void>;
  close(): Promise<void>;
}

function shutdown(runner: Runner, sessions: SessionStore, before: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | null = null;
  // Closing the protocol server closes its transport, which calls back here: the first call wins.
  return () => {
    closing ??= Promise.resolve()
      .then(before)
      .then(() => sessions.closeAll())
      .then(() => runner.close());
    return closing;
  };
}

export async function startMcpStdio(options: McpOptions): Promise<RunningMcp> {
  const tools = toolOptions(options);
  const runner = new Runner(options);
  const sessions = new SessionStore(runner, options);
  const server = createMcpServer(runner, sessions, tools);
  const transport = new StdioServerTransport();
  let stopped!: () => void;
  const closed = new Promise<void>((resolve) => (stopped = resolve));
  const close = shutdown(runner, sessions, () => server.close());
  // The client closing our stdin is the end of the session.
  process.stdin.once('end', () => void close().then(stopped));
  transport.onclose = () => void close().then(stopped);
  await runner.ready();
  await server.connect(transport);
  return { closed, close: () => close().then(stopped) };
}

export async function startMcpHttp(options: McpHttpOptions): Promise<RunningMcp> {
  checkBind(options.host, options.token);
  const tools = toolOptions(options);
  const runner = new Runner(options);
  const sessions = new SessionStore(runner, options);
  const app = new Hono();
  app.use('*', browserGuard(options.host));
  if (options.token) app.use('*', bearerAuth(options.token));
  app.all('/mcp', async (c) => {
    const server = createMcpServer(runner, sessions, tools);
    // Answers stream (server-sent events), so a long run can send progress notifications before its
    // result; the protocol server lives until its stream ends or the client goes away.
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: false,
      maxRequestBodySize: options.maxBodyBytes,
    });
    await server.connect(transport);
    const response = await transport.handleRequest(c.req.raw);
    if (!response.body) {
      void server.close();
      return response;
    }
    const relay = new TransformStream<Uint8Array, Uint8Array>();
    void response.body.pipeTo(relay.writable).catch(() => {}).finally(() => void server.close());
    return new Response(relay.readable, { status: response.status, headers: response.headers });
  });
  const listening = await listenServing(app.fetch, options.host, options.port, runner, sessions);
  let stopped!: () => void;
  const closed = new Promise<void>((resolve) => (stopped = resolve));
  const close = shutdown(runner, sessions, () => listening.close());
  return { url: `${listening.url}/mcp`, closed, close: () => close().then(stopped) };
}
