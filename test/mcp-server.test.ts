// `pyfence mcp` driven by the MCP SDK's own client: over stdio (the CLI as a child process) and over
// streamable HTTP on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, cliAsync, ROOT, type CliResult } from './helpers.js';
import { rawStatus, startCli, type Started } from './process-helpers.js';

/** The SDK's default environment for the server, with this test process's cache directory (test/helpers.ts). */
const testEnv = () => ({ ...getDefaultEnvironment(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME! });

// A server's fuel: an endless loop stops in a fraction of a second, 10,000 printed lines (7.7e8 with their host work) fit.
const LIMIT_FLAGS = ['--timeout', '3s', '--fuel', '2e9', '--concurrency', '2'];
const TOKEN = 'mcp-token-19';
const TOOLS = ['run_python', 'run_wasm', 'session_close', 'session_create', 'session_files', 'session_read_file', 'session_run'];

/** A 1x1 PNG. */
const PNG_1X1 = '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf0000000301010027a84d0b0000000049454e44ae426082';

type Result = CallToolResult & { structuredContent?: Record<string, any> };
const textOf = (r: Result) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** The checks both transports must pass. */
function toolCases(client: () => Client) {
  const call = async (name: string, args: Record<string, unknown>) => (await client().callTool({ name, arguments: args })) as Result;

  it('lists the tools, with input and output schemas', async () => {
    const { tools } = await client().listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    const run = tools.find((t) => t.name === 'run_python')!;
    assert.deepEqual(run.inputSchema.required, ['code']);
    assert.ok(run.outputSchema?.properties?.usage);
  });

  it('names the engine it runs truthfully (CPython by default), and annotates every tool', async () => {
    const { tools } = await client().listTools();
    const run = tools.find((t) => t.name === 'run_python')!;
    assert.match(run.description!, /CPython 3\.14/);
    assert.doesNotMatch(run.description!, /MicroPython/);
    assert.deepEqual((run.inputSchema.properties!.engine as { enum: string[] }).enum, ['cpython']);
    assert.deepEqual(run.annotations, { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false });
    for (const tool of tools) assert.equal(typeof tool.annotations?.readOnlyHint, 'boolean', tool.name);
    assert.equal(tools.find((t) => t.name === 'session_close')!.annotations!.destructiveHint, true);
    const r = await call('run_python', { code: 'import sys\nprint(sys.implementation.name)' });
    assert.equal(r.structuredContent!.stdout, 'cpython\n');
    assert.equal(r.structuredContent!.engine, 'cpython');
    const micro = await call('run_python', { code: 'print(1)', engine: 'micropython' });
    assert.equal(micro.isError, true);
  });

  it('runs code: structured result plus readable text', async () => {
    const r = await call('run_python', { code: 'print(sum(range(10)))' });
    assert.equal(r.isError, false);
    assert.equal(r.structuredContent!.stdout, '45\n');
    assert.match(textOf(r), /stdout:\n45\n/);
  });

  it('returns an infinite loop as a tool result with the stop reason, not a protocol error', async () => {
    const r = await call('run_python', { code: 'while True:\n    pass' });
    assert.equal(r.isError, true);
    assert.ok(['fuel', 'timeout'].includes(r.structuredContent!.error.kind), JSON.stringify(r.structuredContent));
    assert.match(textOf(r), /stopped: (fuel|wall-clock)/);
  });

  it('runs a WebAssembly module given as .wat (run_wasm)', async () => {
    const wat = '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32))) (func (export "_start") (call $exit (i32.const 3))))';
    const r = await call('run_wasm', { wat });
    assert.equal(r.structuredContent!.ok, true);
    assert.equal(r.structuredContent!.exitCode, 3);
    assert.equal(r.isError, true, 'a non-zero exit code is an error for the model');
    assert.match(textOf(r), /exit code 3/);
  });

  it("shows the last expression's value: its repr in the text, its data in structuredContent", async () => {
    const r = await call('run_python', { code: 'x = 20\nx * 2 + 2' });
    assert.match(textOf(r), /^value: 42$/m);
    assert.doesNotMatch(textOf(r), /no output/);
    assert.equal(r.structuredContent!.value, 42);
    const listed = await call('run_python', { code: '[n * n for n in range(4)]' });
    assert.match(textOf(listed), /^value: \[0, 1, 4, 9\]$/m);
  });

  it('keeps a result within the budget (24 KiB) whatever the program prints: head, tail and how much was cut', async () => {
    const r = await call('run_python', { code: 'for i in range(10000):\n    print("line", i, "x" * 60)\nprint("err " * 5000, file=__import__("sys").stderr)\n7' });
    const text = textOf(r);
    assert.ok(Buffer.byteLength(text) <= 24 * 1024, `text is ${Buffer.byteLength(text)} bytes`);
    assert.ok(Buffer.byteLength(JSON.stringify(r.structuredContent)) <= 24 * 1024, 'structuredContent within the budget');
    assert.match(text, /^stdout:\nline 0 x{60}\nline 1 /);
    assert.match(text, /line 9999 x{60}\n/);
    const note = /\[\.\.\. (\d+) bytes, (\d+) lines cut to fit the result budget \.\.\.\]/.exec(text)!;
    assert.ok(note, 'a line says how much was cut');
    const cut = r.structuredContent!.truncated.stdout;
    assert.equal(Number(note[1]), cut.cutBytes);
    assert.ok(cut.cutLines > 9000 && cut.cutBytes > 9000 * 60, JSON.stringify(cut));
    assert.match(r.structuredContent!.stderr, /^err err /);
    assert.match(text, /^value: 7$/m);
    assert.equal(r.structuredContent!.value, 7);
  });

  it('hands back files written under /out/: pictures as images, others as embedded resources, within a size budget', async () => {
    const code = [
      `open("/out/dot.png", "wb").write(bytes.fromhex("${PNG_1X1}"))`,
      'open("/out/chart.svg", "w").write("<svg xmlns=\'http://www.w3.org/2000/svg\'/>")',
      'import os\nos.makedirs("/out/tables", exist_ok=True)',
      'open("/out/tables/t.csv", "w").write("a,b\\n1,2\\n")',
      'open("/out/raw.bin", "wb").write(bytes([0, 255, 1]))',
      'open("/out/huge.txt", "w").write("x" * (3 * 1024 * 1024))',
    ].join('\n');
    const r = await call('run_python', { code });
    assert.equal(r.isError, false, textOf(r));
    const [text, ...files] = r.content as any[];
    assert.equal(text.type, 'text');
    const byUri = Object.fromEntries(files.map((c) => [c.type === 'image' ? `image:${c.mimeType}` : c.resource.uri, c]));
    assert.equal(byUri['image:image/png'].data, Buffer.from(PNG_1X1, 'hex').toString('base64'));
    assert.match(Buffer.from(byUri['image:image/svg+xml'].data, 'base64').toString(), /^<svg/);
    assert.deepEqual(byUri['file:///out/tables/t.csv'].resource, { uri: 'file:///out/tables/t.csv', mimeType: 'text/csv', text: 'a,b\n1,2\n' });
    assert.equal(byUri['file:///out/raw.bin'].resource.blob, Buffer.from([0, 255, 1]).toString('base64'));
    assert.equal(files.length, 4, 'the file over the budget is left out');
    assert.deepEqual(r.structuredContent!.filesOmitted, [{ path: '/out/huge.txt', bytes: 3 * 1024 * 1024 }]);
    assert.match(text.text, /files written under \/out\/:\n  \/out\/chart\.svg \(image\/svg\+xml, \d+ bytes\)/);
    assert.match(text.text, /files left out \(over the size budget\):\n  \/out\/huge\.txt \(3145728 bytes\)/);
    assert.ok(Buffer.byteLength(JSON.stringify(r.structuredContent)) < 24 * 1024);
    const next = await call('run_python', { code: 'import os\nprint(os.listdir("/out"))' });
    assert.equal(next.structuredContent!.stdout, '[]\n', "a run never sees another run's files");
  });

  it('sends progress notifications with the output so far when the client gives a progress token', async () => {
    const seen: { progress: number; message?: string }[] = [];
    const code = 'import time\nfor i in range(6):\n    print("tick", i)\n    time.sleep(0.3)';
    const r = (await client().callTool({ name: 'run_python', arguments: { code } }, undefined, { onprogress: (p) => seen.push(p), timeout: 60_000 })) as Result;
    assert.equal(r.structuredContent!.stdout, ['0', '1', '2', '3', '4', '5'].map((i) => `tick ${i}\n`).join(''));
    assert.ok(seen.length >= 2, `progress notifications: ${JSON.stringify(seen)}`);
    assert.match(seen[0].message!, /^tick 0\n/);
    assert.ok(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress), 'progress increases');
    assert.ok(seen[0].progress < Buffer.byteLength(r.structuredContent!.stdout), 'sent while running, before the end');
  });

  it('gives the traceback of a Python error as text', async () => {
    const r = await call('run_python', { code: 'def f():\n    return 1 / 0\nf()' });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /Traceback[\s\S]*ZeroDivisionError/);
  });

  it('lets a call lower limits but never raise them', async () => {
    const lower = await call('run_python', { code: 'while True: pass', limits: { fuel: 1_000_000 } });
    assert.equal(lower.structuredContent!.error.kind, 'fuel');
    const higher = await call('run_python', { code: 'print(1)', limits: { fuel: 3e9 } });
    assert.equal(higher.isError, true);
    assert.match(textOf(higher), /fuel may not exceed the server's limit/);
  });

  it('keeps a session across calls, with its files, until it is closed', async () => {
    const created = await call('session_create', { files: { '/in/data.txt': 'abc' } });
    const id = created.structuredContent!.session_id as string;
    await call('session_run', { session_id: id, code: 'x = 41\nopen("/out.txt", "w").write("result")' });
    const r = await call('session_run', { session_id: id, code: 'x += 1\nprint(x, open("/in/data.txt").read())' });
    assert.equal(r.structuredContent!.stdout, '42 abc\n');
    const files = await call('session_files', { session_id: id });
    assert.ok(files.structuredContent!.entries.some((e: { name: string }) => e.name === 'out.txt'));
    const read = await call('session_read_file', { session_id: id, path: '/out.txt' });
    assert.deepEqual(read.structuredContent, { encoding: 'utf8', content: 'result' });
    await call('session_close', { session_id: id });
    const gone = await call('session_run', { session_id: id, code: 'print(x)' });
    assert.equal(gone.isError, true);
    assert.match(textOf(gone), /no session/);
  });
}

let stdioClient: Client;
let httpClient: Client;
let httpServer: Started;
let httpUrl: string;
let stdinClosed: Promise<CliResult>;

// Both servers start side by side: their start-up is most of this file's time.
before(async () => {
  stdinClosed = cliAsync(['mcp'], { input: '', timeoutMs: 60_000 });
  const stdio = (async () => {
    stdioClient = new Client({ name: 'test', version: '1' });
    const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', CLI, 'mcp', ...LIMIT_FLAGS], cwd: ROOT, stderr: 'pipe', env: testEnv() });
    await stdioClient.connect(transport);
  })();
  const http = (async () => {
    httpServer = await startCli(['mcp', '--http', '0', '--token', TOKEN, ...LIMIT_FLAGS], /listening on (http:\S+)/);
    httpUrl = httpServer.match[1];
    httpClient = new Client({ name: 'test', version: '1' });
    await httpClient.connect(new StreamableHTTPClientTransport(new URL(httpUrl), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  })();
  await Promise.all([stdio, http]);
});
after(async () => {
  await stdioClient?.close();
  await httpClient?.close();
  await httpServer?.stop('SIGKILL');
});

describe('pyfence mcp over stdio', () => {
  toolCases(() => stdioClient);

  it('exits 0 when the client closes its stdin', async () => {
    const r = await stdinClosed;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});

describe('pyfence mcp over streamable HTTP', () => {
  toolCases(() => httpClient);

  it('refuses a client without the token (401)', async () => {
    const r = await fetch(httpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 401);
  });

  it('refuses a DNS-rebound Host header (403)', async () => {
    assert.equal(await rawStatus(httpUrl, '/mcp', 'evil.example'), 403);
  });
});
