// The MCP tool run_wasm, driven by the MCP SDK's own client against `pyfence mcp` over stdio: a
// module from the call, grants only from the server's flags (its mount, its env names), limits a
// call may only lower, a bound on module size, clear errors for bad modules.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, ROOT, tempDir } from './helpers.js';
import { MAX_WASM_MODULE_BYTES } from '../src/servers/core/module-request.js';
import { HELLO_WAT } from './support/hello-wat.js';

/** The SDK's default environment for the server, with this test process's cache directory (test/helpers.ts). */
const testEnv = () => ({ ...getDefaultEnvironment(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME! });

type Result = CallToolResult & { structuredContent?: Record<string, any> };
const textOf = (r: Result) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'wasm');
const fixture64 = (name: string) => fs.readFileSync(join(FIXTURES, name)).toString('base64');
const fixtureText = (name: string) => fs.readFileSync(join(FIXTURES, name), 'utf8');


let client: Client;
let dir: string;
const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;

before(async () => {
  dir = tempDir('mcp-wasm');
  fs.writeFileSync(join(dir, 'inside.txt'), 'inside\n');
  fs.symlinkSync('/etc', join(dir, 'link-out'));
  client = new Client({ name: 'test', version: '1' });
  const flags = ['--timeout', '4s', '--fuel', '5e8', '--concurrency', '2', '--mount', `${dir}:/data:ro`, '--env', 'GREETING=hi', '--engines', 'cpython,micropython', '--result-budget', '4KiB'];
  await client.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', CLI, 'mcp', ...flags], cwd: ROOT, stderr: 'pipe', env: testEnv() }));
});
after(async () => {
  await client?.close();
});

describe('run_python over MCP with two engines enabled', () => {
  it("describes both, with MicroPython's main differences, and runs the one a call names", async () => {
    const { tools } = await client.listTools();
    const run = tools.find((t) => t.name === 'run_python')!;
    assert.match(run.description!, /Default engine: cpython = CPython 3\.14/);
    assert.match(run.description!, /Also available: micropython = MicroPython 1\.27 \(.*dict iteration order/);
    const name = 'import sys\nprint(sys.implementation.name)';
    assert.equal((await call('run_python', { code: name })).structuredContent!.stdout, 'cpython\n');
    assert.equal((await call('run_python', { code: name, engine: 'micropython' })).structuredContent!.stdout, 'micropython\n');
    const long = await call('run_python', { code: 'for i in range(3000):\n    print(i)', engine: 'micropython' });
    assert.ok(Buffer.byteLength(textOf(long)) <= 4096, '--result-budget sets the budget');
    assert.match(textOf(long), /^0\n1\n[\s\S]*bytes, \d+ lines cut[\s\S]*\n2999\n/m);
    const session = (await call('session_create', { engine: 'micropython' })).structuredContent!.session_id;
    assert.equal((await call('session_run', { session_id: session, code: name })).structuredContent!.engine, 'micropython');
  });
});

describe('run_wasm over MCP', () => {
  it('is listed with its input and output schemas', async () => {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === 'run_wasm')!;
    assert.ok(tool.inputSchema.properties?.wasm_base64 && tool.inputSchema.properties?.wat);
    assert.ok(tool.outputSchema?.properties?.exitCode && tool.outputSchema?.properties?.usage);
  });

  it('runs a hello world given as .wat, and a C program given as base64', async () => {
    const wat = await call('run_wasm', { wat: HELLO_WAT });
    assert.equal(wat.isError, false, textOf(wat));
    assert.equal(wat.structuredContent!.stdout, 'hello from wat\n');
    assert.equal(wat.structuredContent!.exitCode, 0);
    assert.match(textOf(wat), /stdout:\nhello from wat\n[\s\S]*exit code 0/);
    const c = await call('run_wasm', { wasm_base64: fixture64('stdin_echo.wasm'), stdin: 'ab\ncd\n' });
    assert.equal(c.structuredContent!.stdout, 'AB\nCD\n2 lines\n');
  });

  it('passes args, and env only for names the server granted', async () => {
    const r = await call('run_wasm', { wasm_base64: fixture64('print_env.wasm'), args: ['p', 'x y'] });
    assert.match(r.structuredContent!.stdout, /^argv\[1\]=x y$/m);
    assert.match(r.structuredContent!.stdout, /^env GREETING=hi$/m);
    assert.doesNotMatch(r.structuredContent!.stdout, /^env PATH=/m);
    const set = await call('run_wasm', { wasm_base64: fixture64('print_env.wasm'), env: { GREETING: 'yo' } });
    assert.match(set.structuredContent!.stdout, /^env GREETING=yo$/m);
    const ungranted = await call('run_wasm', { wasm_base64: fixture64('print_env.wasm'), env: { HOME: '/root' } });
    assert.equal(ungranted.isError, true);
    assert.match(textOf(ungranted), /env: "HOME" is not granted by this server \(granted: GREETING\)/);
  });

  it("sees the server's mount as granted (ro): reads inside, no write, no symlink escape", async () => {
    const r = await call('run_wasm', {
      wasm_base64: fixture64('fs_probe.wasm'),
      args: ['p', 'read', '/data/inside.txt', 'read', '/data/link-out/passwd', 'write', '/data/new.txt'],
    });
    const out = r.structuredContent!.stdout as string;
    assert.match(out, /OPEN \/data\/inside\.txt: inside/);
    assert.doesNotMatch(out, /root:/);
    assert.ok(!fs.existsSync(join(dir, 'new.txt')));
    const kinds = (r.structuredContent!.audit.events as { kind: string }[]).map((e) => e.kind);
    assert.ok(kinds.includes('path-escape') && kinds.includes('read-only'), JSON.stringify(kinds));
  });

  it('stops an infinite loop by fuel as a tool result, and lets a call lower limits but never raise them', async () => {
    const r = await call('run_wasm', { wat: fixtureText('infinite_loop.wat'), limits: { fuel: 1_000_000 } });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent!.error.kind, 'fuel');
    assert.equal(r.structuredContent!.exitCode, 3);
    assert.match(textOf(r), /stopped: fuel/);
    const server = await call('run_wasm', { wat: fixtureText('infinite_loop.wat') });
    assert.ok(['fuel', 'timeout'].includes(server.structuredContent!.error.kind));
    const higher = await call('run_wasm', { wat: HELLO_WAT, limits: { fuel: 1e12 } });
    assert.equal(higher.isError, true);
    assert.match(textOf(higher), /fuel may not exceed the server's limit/);
  });

  it('refuses a module importing anything but WASI (kind denied, every import named)', async () => {
    const r = await call('run_wasm', { wat: fixtureText('ungranted_import.wat') });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent!.error.kind, 'denied');
    assert.equal(r.structuredContent!.exitCode, 7);
    assert.match(r.structuredContent!.error.message, /ungranted imports: env\./);
    assert.match(textOf(r), /stopped: denied/);
  });

  it('answers invalid modules with a clear error', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ wat: '(module (func (export "_start") (i32.add)))' }, /invalid|cannot|parse|error/i],
      [{ wasm_base64: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff]).toString('base64') }, /invalid module/],
      [{ wasm_base64: Buffer.from('print("hi")').toString('base64') }, /WebAssembly header/],
      [{ wasm_base64: 'not base64!' }, /not base64/],
      [{}, /exactly one of code \(Python\), wat or wasm_base64/],
      [{ wat: HELLO_WAT, wasm_base64: fixture64('hello.wasm') }, /exactly one/],
      [{ wat: '(module (func (export "f")))' }, /no _start export/],
    ];
    for (const [args, message] of cases) {
      const r = await call('run_wasm', args);
      assert.equal(r.isError, true, JSON.stringify(args));
      assert.match(textOf(r), message, JSON.stringify(args));
    }
    const after = await call('run_wasm', { wat: HELLO_WAT });
    assert.equal(after.structuredContent!.stdout, 'hello from wat\n', 'the server carries on');
  });

  it('refuses a module over the size bound before decoding or compiling it', async () => {
    const wat = `(module ${' '.repeat(MAX_WASM_MODULE_BYTES)})`;
    const r = await call('run_wasm', { wat });
    assert.equal(r.isError, true);
    assert.match(textOf(r), new RegExp(`accepts at most ${MAX_WASM_MODULE_BYTES}`));
    const big = await call('run_wasm', { wasm_base64: 'AGFzbQEAAAA'.padEnd(Math.ceil((MAX_WASM_MODULE_BYTES * 4) / 3) + 8, 'A') });
    assert.match(textOf(big), /accepts at most/);
  });

  it('never blocks the server: a Python run completes while a module sleeps', async () => {
    let wasmDone = false;
    const sleeping = call('run_wasm', { wat: fixtureText('sleep_forever.wat') }).then((r) => ((wasmDone = true), r));
    const py = await call('run_python', { code: 'print(6 * 7)' });
    assert.equal(py.structuredContent!.stdout, '42\n');
    assert.equal(wasmDone, false, 'the Python run finished before the sleeping module was stopped');
    const r = await sleeping;
    assert.equal(r.structuredContent!.error.kind, 'timeout');
  });
});
