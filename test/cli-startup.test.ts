// What the command line does before its own code loads (src/cli/launcher.ts): MicroPython's module
// compile started first (src/guests/micropython/early-compile.ts) and taken over by the sandbox's
// module loader, only for the file it read and only once; and the built-in modules a run that needs
// none of them does not load (src/cli/stdio.ts, src/cli/code-cache.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runsMicroPython } from '../src/cli/commands.js';
import { startEarlyCompile, takeEarlyCompile } from '../src/guests/micropython/early-compile.js';
import { compileSandboxModule, sandboxModulePath } from '../src/guests/micropython/module.js';
import { CLI, ROOT, tempDir } from './helpers.js';

const argv = (...words: string[]) => ['node', 'pyfence', ...words];

describe('the command line before its code loads', () => {
  it('compiles MicroPython early for run and repl, not for CPython or the other commands', () => {
    assert.equal(runsMicroPython(argv('run', '-c', 'pass')), true);
    assert.equal(runsMicroPython(argv('repl')), true);
    assert.equal(runsMicroPython(argv('run', '--engine', 'micropython', 'prog.py')), true);
    assert.equal(runsMicroPython(argv('run', '--engine', 'cpython', '-c', 'pass')), false);
    assert.equal(runsMicroPython(argv('repl', '--engine=cpython')), false);
    for (const command of ['wasm', 'serve', 'mcp', 'worker', '--help', 'rnu']) assert.equal(runsMicroPython(argv(command, 'x.wasm')), false, command);
    assert.equal(runsMicroPython(argv()), false);
  });

  it('hands a compile over once, for the file it read; a file it cannot read is left to the loader', async () => {
    const path = sandboxModulePath('metered');
    startEarlyCompile(path);
    assert.equal(takeEarlyCompile(join(tempDir('early-compile'), 'pyfence.wasm')), undefined, 'another file');
    const early = takeEarlyCompile(path);
    assert.ok(early);
    assert.ok((await early.module) instanceof WebAssembly.Module);
    assert.equal(early.bytes.length, readFileSync(path).length);
    assert.equal(takeEarlyCompile(path), undefined, 'given once');
    const missing = join(tempDir('early-compile-missing'), 'absent.wasm');
    startEarlyCompile(missing);
    assert.equal(takeEarlyCompile(missing), undefined);
  });

  it("the sandbox's module loader takes the early compile rather than compile again", async () => {
    const path = sandboxModulePath('metered');
    startEarlyCompile(path);
    const loaded = await compileSandboxModule('metered');
    assert.equal(takeEarlyCompile(path), undefined, 'taken by the loader');
    assert.ok(loaded.moduleTable.length > 0, "the module's build section was read");
    assert.equal(WebAssembly.Module.exports(loaded.module).some((e) => e.name === 'memory' || e.kind === 'memory'), true);
  });
});

describe("the command's built-in modules", () => {
  // The built-in modules a run loaded, from a module required ahead of the command.
  function loadedBy(args: string[], stdio: 'pipe' | 'file'): string[] {
    const dir = tempDir('cli-startup-modules');
    const report = join(dir, 'modules.json');
    const reporter = join(dir, 'report.cjs');
    writeFileSync(reporter, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList)));`);
    const out = stdio === 'file' ? openSync(join(dir, 'out.txt'), 'w') : 'pipe';
    const r = spawnSync(process.execPath, ['--require', reporter, CLI, ...args], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: join(dir, 'code') }, stdio: ['ignore', out, out], timeout: 120_000 });
    assert.equal(r.status, 0, String(r.stderr));
    return (JSON.parse(readFileSync(report, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  }

  it('a run that prints nothing makes no stdout or stderr stream (node:net for a pipe, the fs stream for a file)', () => {
    for (const stdio of ['pipe', 'file'] as const) {
      const loaded = loadedBy(['run', '-c', 'pass'], stdio);
      assert.ok(loaded.includes('vm'), 'the launcher ran');
      for (const unwanted of ['net', 'tty', 'internal/fs/sync_write_stream', 'zlib']) assert.ok(!loaded.includes(unwanted), `${unwanted} loaded with stdout a ${stdio}`);
    }
    assert.ok(loadedBy(['run', '-c', 'print(1)'], 'pipe').includes('net'), 'a run that prints makes its stream as before');
  });
});
