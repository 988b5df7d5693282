// What the command line does before its own code loads (src/cli/launcher.ts): MicroPython's module
// compile started first (src/guests/micropython/early-compile.ts) and taken over by the sandbox's
// module loader, only for the file it read and only once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runsMicroPython } from '../src/cli/commands.js';
import { startEarlyCompile, takeEarlyCompile } from '../src/guests/micropython/early-compile.js';
import { compileSandboxModule, sandboxModulePath } from '../src/guests/micropython/module.js';
import { tempDir } from './helpers.js';

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
    assert.equal(early.bytes.length, (await import('node:fs')).statSync(path).size);
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
