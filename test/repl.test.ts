import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { needsMoreInput } from '../src/cli/repl-input.js';
import { CLI, cli, ROOT, tempDir } from './helpers.js';
const tmp = tempDir('repl');

/** A REPL child with piped stdin; `expect` waits (bounded) until stdout contains a text. */
function startRepl(args: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'repl', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const expect = async (text: string, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (!stdout.includes(text)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    child,
    expect,
    write: (text: string) => child.stdin.write(text),
    end: async () => {
      child.stdin.end();
      const code = await exited;
      clearTimeout(kill);
      return { code, stdout, stderr };
    },
  };
}

describe('pyfence repl', () => {
  it('runs statements and blocks, prints expression values, keeps state, reports errors', async () => {
    const repl = startRepl(['--env', 'A=b']);
    repl.write('x = 5\nx * 2\ndef f(n):\n    return n + 1\n\nf(x)\nd = {"a": [1,\n  2]}\nd\n1/0\nprint("after")\nimport os\nos.getenv("A")\n');
    const { code, stdout, stderr } = await repl.end();
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "10\n6\n{'a': [1, 2]}\nafter\n'b'\n");
    assert.equal(stderr, 'Traceback (most recent call last):\n  File "<stdin>", line 1, in <module>\nZeroDivisionError: divide by zero\n');
  });

  it('Ctrl-C interrupts the running input and the session goes on', async () => {
    const repl = startRepl();
    // The loop says when it is running, so the interrupt lands inside it.
    repl.write('n = 0\nwhile True:\n    n += 1\n    if n == 1000: print("looping")\n\n');
    await repl.expect('looping\n');
    repl.child.kill('SIGINT');
    repl.write('print("alive", n > 0)\n');
    await repl.expect('alive True\n');
    // A sleep is interrupted at once, too.
    repl.write('import time\nprint("sleeping")\ntime.sleep(60)\nprint("woke")\n');
    await repl.expect('sleeping\n'); // an interrupt before the sleep begins still ends it at once
    repl.child.kill('SIGINT');
    const { code, stdout, stderr } = await repl.end();
    assert.equal(code, 0);
    assert.equal(stdout, 'looping\nalive True\nsleeping\nwoke\n');
    assert.equal(stderr.match(/KeyboardInterrupt/g)?.length, 2, stderr);
  });

  it('saves a session and loads it in a new process; refuses a damaged file', async () => {
    const file = join(tmp, 'session.snap');
    const first = startRepl(['--save', file]);
    first.write('def greet(name):\n    return "hi " + name\n\nitems = [1, 2, 3]\n');
    assert.equal((await first.end()).code, 0);
    const second = startRepl(['--load', file]);
    second.write('greet("ada")\nsum(items)\n');
    const r = await second.end();
    assert.equal(r.stdout, "'hi ada'\n6\n");
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 1;
    writeFileSync(file, bytes);
    const bad = cli(['repl', '--load', file]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /cannot load .*checksum/);
    assert.equal(cli(['repl', '--load', join(tmp, 'missing.snap')]).status, 2);
    assert.equal(cli(['repl', '--fuel', 'lots']).status, 2);
  });

  it('knows when an input needs more lines', () => {
    const more = (text: string) => needsMoreInput(text.split('\n'));
    assert.equal(more('x = 1'), false);
    assert.equal(more('def f():'), true);
    assert.equal(more('def f():\n    return 1'), true);
    assert.equal(more('def f():\n    return 1\n'), false);
    assert.equal(more('d = {"a": [1,'), true);
    assert.equal(more('d = {"a": [1,\n 2]}'), false);
    assert.equal(more('s = """start'), true);
    assert.equal(more('s = """start\nend"""'), false);
    assert.equal(more('x = "(" # ('), false);
    assert.equal(more('x = 1 + \\'), true);
    assert.equal(more('@decorator'), true);
  });
});
