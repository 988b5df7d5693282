// Every example in examples/ runs as its README says and does what it claims.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { cliAsync, nodeAsync, ROOT, tempDir, type CliResult } from './helpers.js';

/** An example as a new user runs it, with a home of its own: the MCP SDK gives the server it starts only a few variables, HOME among them, so its caches go there. */
function node(script: string): Promise<CliResult> {
  return nodeAsync([join(ROOT, script)], { timeoutMs: 120_000, env: { ...process.env, HOME: tempDir('home') } });
}

describe('examples/', { concurrency: 4 }, () => {
  it('plugin-host: host functions, a read-only mount and limits', async () => {
    const r = await node('examples/plugin-host/host.mjs');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'total: 3.5\nrunaway plugin: fuel\n');
    assert.equal(r.stderr, '[plugin] invoice: 2 items, 3.5 total\n');
  });

  it('agent-tool: the configured MCP server, driven by the MCP SDK client', async () => {
    const r = await node('examples/agent-tool/client.mjs');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tools: .*run_python.*\nrun_python: 285 \(error: false\)\na loop that never ends: isError true, fuel\n$/);
  });

  it('wasi-program: the prebuilt greet.wasm is its greet.wat, and runs with its own exit status', async () => {
    const module = binaryen.parseText(readFileSync(join(ROOT, 'examples/wasi-program/greet.wat'), 'utf8'));
    assert.deepEqual(Buffer.from(module.emitBinary()), readFileSync(join(ROOT, 'examples/wasi-program/greet.wasm')));
    module.dispose();
    const r = await cliAsync(['wasm', '--no-cache', 'examples/wasi-program/greet.wasm', 'a', 'b']);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, 'Hello from WASI! arguments: 2\n');
  });

  it('cpython-data: the standard library on a mounted CSV', async () => {
    const r = await cliAsync(['run', '--engine', 'cpython', '--mount', 'examples/cpython-data:/data:ro', 'examples/cpython-data/summary.py'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      east: { count: 1, max: 45.25, mean: 45.25 },
      north: { count: 2, max: 120.5, mean: 110 },
      south: { count: 2, max: 100, mean: 90 },
    });
  });

  it('hello.py', async () => {
    const r = await cliAsync(['run', 'examples/hello.py']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Hello, pyfence!\n/);
  });
});
