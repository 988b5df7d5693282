// What the command line does before its own code loads (src/cli/launcher.ts): MicroPython's module
// compile started first (src/guests/micropython/early-compile.ts) and taken over by the sandbox's
// module loader, only for the file it read and only once; and the built-in modules a run that needs
// none of them does not load (src/cli/stdio.ts, src/cli/code-cache.ts, src/cli/v8-flags.ts,
// src/instrument/disk-cache.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, openSync, readFileSync, readSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { runsMicroPython } from '../src/cli/commands.js';
import { RACY_MS } from '../src/instrument/disk-cache.js';
import { readAsCompiled, startEarlyCompile, takeEarlyCompile } from '../src/guests/micropython/early-compile.js';
import { compileSandboxModule, moduleSha256, sandboxModulePath } from '../src/guests/micropython/module.js';
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
    const path = join(tempDir('early-compile-fresh'), 'pyfence.wasm');
    copyFileSync(sandboxModulePath('metered'), path);
    assert.equal(startEarlyCompile(path), undefined, 'a file changed within RACY_MS lends no buffer');
    assert.equal(takeEarlyCompile(join(tempDir('early-compile'), 'pyfence.wasm')), undefined, 'another file');
    const early = takeEarlyCompile(path);
    assert.ok(early);
    assert.ok((await early.module) instanceof WebAssembly.Module);
    assert.ok(early.bytes && readFileSync(path).equals(early.bytes), 'its bytes kept, for the hash');
    assert.equal(early.identity, null);
    assert.equal(takeEarlyCompile(path), undefined, 'given once');
    const missing = join(tempDir('early-compile-missing'), 'absent.wasm');
    assert.equal(startEarlyCompile(missing), undefined);
    assert.equal(takeEarlyCompile(missing), undefined);
  });

  it("lends the read's buffer once the file is RACY_MS old: the compile has its own copy, the file's identity stands for the bytes", async () => {
    const dir = tempDir('early-compile-lent');
    const [kept, rewritten, replaced] = ['kept', 'rewritten', 'replaced'].map((name) => join(dir, `${name}.wasm`));
    const original = readFileSync(sandboxModulePath('metered'));
    for (const path of [kept, rewritten, replaced]) writeFileSync(path, original);
    await sleep(RACY_MS + 200);
    const lent = startEarlyCompile(kept);
    assert.ok(lent, 'a buffer lent');
    assert.equal(lent.length, original.length);
    lent.fill(0xff); // the launcher reads the command's code into it
    const early = takeEarlyCompile(kept)!;
    assert.equal(early.bytes, null);
    assert.ok(early.identity);
    const module = await early.module;
    assert.ok(WebAssembly.Module.exports(module).length > 10, 'compiled from the bytes as read, not from what the buffer holds now');
    const identities = [rewritten, replaced].map((path) => {
      startEarlyCompile(path);
      return takeEarlyCompile(path)!.identity!;
    });
    // Written again with the same bytes and its mtime put back; replaced by a copy of the same bytes.
    const { atime, mtime } = statSync(rewritten);
    writeFileSync(rewritten, original);
    utimesSync(rewritten, atime, mtime);
    writeFileSync(join(dir, 'next.wasm'), original);
    utimesSync(join(dir, 'next.wasm'), atime, mtime);
    renameSync(join(dir, 'next.wasm'), replaced);
    await sleep(RACY_MS + 200); // the changes are no longer recent: their identities alone tell them apart
    assert.ok(original.equals(readAsCompiled(kept, early.identity)), 'read again while unchanged');
    assert.throws(() => readAsCompiled(rewritten, identities[0]), /changed after this process compiled it/, 'its ctime');
    assert.throws(() => readAsCompiled(replaced, identities[1]), /changed after this process compiled it/, 'its inode');
  });

  it("the sandbox's module loader takes the early compile rather than compile again", async () => {
    const path = sandboxModulePath('metered');
    startEarlyCompile(path);
    const loaded = await compileSandboxModule('metered');
    assert.equal(takeEarlyCompile(path), undefined, 'taken by the loader');
    assert.ok(loaded.moduleTable.length > 0, "the module's build section was read");
    assert.equal(WebAssembly.Module.exports(loaded.module).some((e) => e.name === 'memory' || e.kind === 'memory'), true);
    assert.equal(moduleSha256('metered'), createHash('sha256').update(readFileSync(path)).digest('hex'), 'what a snapshot is tied to');
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
      // The deadline and wall-time clock (src/core/clock.ts) is not the \`performance\` global's, and
      // the cache directory is found from $HOME (src/cli/cache-dir.ts).
      for (const unwanted of ['perf_hooks', 'os']) assert.ok(!loaded.includes(unwanted), `${unwanted} loaded with stdout a ${stdio}`);
    }
  });

  it('a run that prints to a pipe or a file writes its descriptor: no stream made, the output whole', () => {
    for (const stdio of ['pipe', 'file'] as const) {
      const { loaded, out } = printed(['run', '-c', 'import sys\nprint("out", 1)\nprint("err", file=sys.stderr)\nsys.exit(3)'], stdio, 3);
      assert.equal(out, stdio === 'file' ? 'out 1\nerr\n' : 'out 1\n');
      for (const unwanted of ['net', 'tty', 'internal/fs/sync_write_stream']) assert.ok(!loaded.includes(unwanted), `${unwanted} loaded with stdout a ${stdio}`);
    }
  });

  it('a pyfence wasm run of a module met before loads neither node:crypto nor node:v8 (and no stream), and warns of nothing', async () => {
    const dir = tempDir('cli-startup-wasm');
    const hello = join(ROOT, 'test/fixtures/wasm/hello.wasm');
    const st = statSync(hello);
    await sleep(Math.max(0, Math.max(st.mtimeMs, st.ctimeMs) + RACY_MS + 100 - Date.now())); // its identity is recorded only then
    const env = { PYFENCE_WASM_CACHE: join(dir, 'wasm') };
    const runs = [1, 2, 3].map(() => printed(['wasm', hello], 'pipe', 0, env));
    for (const { out } of runs) assert.equal(out, 'Hello, WASI!\n');
    assert.ok(runs[0].loaded.includes('crypto'), 'the first run hashes the module it instruments');
    const { loaded, err } = runs[2];
    for (const unwanted of ['crypto', 'v8', 'stream', 'net']) assert.ok(!loaded.includes(unwanted), `${unwanted} loaded by a run from the cache`);
    assert.equal(err, '');
  });

  it('a full pipe left non-blocking hands the rest to the stream: all of it arrives, in order', { timeout: 120_000 }, async (t) => {
    const dir = tempDir('cli-startup-eagain');
    const fifo = join(dir, 'out');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      t.skip('no mkfifo here');
      return;
    }
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    // stdout and stderr on one pipe, which the child's stderr stream, made first thing, leaves
    // non-blocking (libuv's pipes are): writes to stdout then meet EAGAIN once it is full (64 KB).
    const preload = join(dir, 'stderr-first.cjs');
    writeFileSync(preload, 'process.stderr;');
    const program = 'for i in range(40000): print("%06d" % i)'; // ~280 KB
    const child = spawn(process.execPath, ['--require', preload, CLI, 'run', '-c', program], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: join(dir, 'code') }, stdio: ['ignore', writer, writer] });
    closeSync(writer);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // nothing read meanwhile: the pipe fills
    const chunks: Buffer[] = [];
    for (;;) {
      const buffer = Buffer.alloc(65536);
      let n = 0;
      try {
        n = readSync(reader, buffer);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      if (n > 0) chunks.push(buffer.subarray(0, n));
      else if (done) break;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    closeSync(reader);
    const text = Buffer.concat(chunks).toString();
    assert.equal(await exited, 0, text.slice(-500));
    const lines = text.split('\n');
    assert.equal(lines.length, 40001, text.slice(-500));
    assert.ok(lines.slice(0, 40000).every((line, i) => line === String(i).padStart(6, '0')), 'every line, in order');
  });
});

/** A command's output (stdout and, for a file, stderr with it) and the built-ins it loaded. */
function printed(args: string[], stdio: 'pipe' | 'file', status: number, env: NodeJS.ProcessEnv = {}): { loaded: string[]; out: string; err: string } {
  const dir = tempDir('cli-startup-printed');
  const report = join(dir, 'modules.json');
  const reporter = join(dir, 'report.cjs');
  writeFileSync(reporter, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList)));`);
  const outFile = join(dir, 'out.txt');
  const out = stdio === 'file' ? openSync(outFile, 'w') : 'pipe';
  const r = spawnSync(process.execPath, ['--require', reporter, CLI, ...args], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: join(dir, 'code'), ...env }, stdio: ['ignore', out, out], encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, status, String(r.stderr));
  const loaded = (JSON.parse(readFileSync(report, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  return { loaded, out: stdio === 'file' ? readFileSync(outFile, 'utf8') : r.stdout, err: stdio === 'file' ? '' : r.stderr };
}
