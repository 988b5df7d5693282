// `pyfence repl` in a terminal, as a person types into it: a pseudo-terminal (util-linux `script`)
// carries keystrokes, so readline runs in terminal mode with Ctrl-C, Tab, the `...` prompt and
// history across runs, as in python3's REPL.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, ROOT, tempDir } from './helpers.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The REPL on a pseudo-terminal; `expect` waits (bounded) until the output since the last mark holds a text. */
function ttyRepl(env: NodeJS.ProcessEnv, args: string[] = []) {
  const command = [process.execPath, CLI, 'repl', ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, TERM: 'xterm', ...env } });
  let output = '';
  let mark = 0;
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const expect = async (text: string, timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs;
    while (!output.slice(mark).includes(text)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(text)}; output: ${JSON.stringify(output)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    mark = output.indexOf(text, mark) + text.length;
  };
  return {
    expect,
    type: (keys: string) => child.stdin.write(keys),
    output: () => output,
    end: async () => {
      child.stdin.write('\x04');
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

describe('pyfence repl on a terminal', { skip: hasScript ? false : 'util-linux `script` is not installed: no pseudo-terminal to drive' }, () => {
  it('Ctrl-C drops the typed line, Tab completes from the session, blocks prompt ..., history persists', async () => {
    const history = join(tempDir('history'), 'history');
    const repl = ttyRepl({ PYFENCE_HISTORY: history });
    await repl.expect('>>> ');
    repl.type('zebra_count = 41\r');
    await repl.expect('>>> ');

    // Ctrl-C while typing: KeyboardInterrupt, and the typed text is gone (Enter would run it).
    repl.type('undefined_name');
    await repl.expect('undefined_name');
    repl.type('\x03');
    await repl.expect('KeyboardInterrupt');
    await repl.expect('>>> ');
    repl.type('print(zebra_count + 1)\r');
    await repl.expect('42\r\n');
    assert.doesNotMatch(repl.output(), /NameError/);

    // Tab: a global's name, then a module's attribute.
    // (readline writes only what completion adds, after redrawing the prompt: wait for that part)
    repl.type('zebra_c\t');
    await repl.expect('ount');
    repl.type(' * 2\r');
    await repl.expect('82\r\n');
    repl.type('import math\r');
    repl.type('math.facto\t'); // typed ahead, while the import may still run
    await repl.expect('rial');
    repl.type('(5)\r');
    await repl.expect('120\r\n');

    // A block asks for more with "... ", and ends at an empty line.
    repl.type('for i in range(2):\r');
    await repl.expect('... ');
    repl.type('\tprint("row", i)\r'); // Tab on a blank line indents
    await repl.expect('... ');
    repl.type('\r');
    await repl.expect('row 1\r\n');
    repl.type('print("last " + "one")\r');
    await repl.expect('last one\r\n');
    assert.equal(await repl.end(), 0, repl.output());

    assert.ok(existsSync(history), 'no history file written');
    const saved = readFileSync(history, 'utf8').split('\n');
    for (const line of ['zebra_count = 41', 'math.factorial(5)', 'print("last " + "one")']) assert.ok(saved.includes(line), `${line} not in ${saved}`);
    assert.ok(!saved.includes('undefined_name'), 'a dropped line is not history');

    // The next session starts with it: Up, Enter runs the last input again.
    const again = ttyRepl({ PYFENCE_HISTORY: history });
    await again.expect('>>> ');
    again.type('\x1b[A');
    await again.expect('print("last " + "one")');
    again.type('\r');
    await again.expect('last one\r\n');
    assert.equal(await again.end(), 0, again.output());

    // --no-history: nothing read or written.
    const before = readFileSync(history, 'utf8');
    const none = ttyRepl({ PYFENCE_HISTORY: history }, ['--no-history']);
    await none.expect('>>> ');
    none.type('print("unsaved")\r');
    await none.expect('unsaved\r\n');
    assert.equal(await none.end(), 0, none.output());
    assert.equal(readFileSync(history, 'utf8'), before);
  });
});
