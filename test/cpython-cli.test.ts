// `pyfence run --engine cpython`: the program's output streams, a traceback goes to stderr with the
// file's name, exit codes are the CLI's contract.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers.js';

describe('CLI: --engine cpython', () => {
  it('runs a file with arguments; a traceback names the file; exit 1', () => {
    const dir = tempDir('cli-cpy');
    const file = join(dir, 'prog.py');
    writeFileSync(file, 'import sys\nprint("args", sys.argv[1:])\ndef f():\n    return 1 / 0\nf()\n');
    const r = cli(['run', '--engine', 'cpython', file, 'a', 'b']);
    assert.equal(r.stdout, "args ['a', 'b']\n");
    assert.match(r.stderr, new RegExp(`File "${file}", line 5, in <module>`));
    assert.match(r.stderr, /ZeroDivisionError: division by zero\n$/);
    assert.equal(r.status, 1);
  });

  it('--json, limits and a bad engine name', () => {
    const ok = cli(['run', '--engine', 'cpython', '--json', '-c', 'print(sum(range(10)))']);
    assert.equal(ok.status, 0);
    assert.equal(JSON.parse(ok.stdout).stdout, '45\n');
    const fuel = cli(['run', '--engine', 'cpython', '--fuel', '10000000', '-c', 'while True: pass']);
    assert.equal(fuel.status, 3);
    const bad = cli(['run', '--engine', 'jython', '-c', '1']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Allowed choices are micropython, cpython/);
  });
});
