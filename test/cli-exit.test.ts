// The CLI's exit status is python3's (a program's own SystemExit is its status, without a
// traceback) on both engines, pyfence's stops keep their codes, and --json tells the two apart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliAsync } from './helpers.js';

/** [program, status, stderr exactly] as python3 gives them. */
const CASES: [string, number, string][] = [
  ['import sys; sys.exit(9)', 9, ''],
  ['raise SystemExit(9)', 9, ''],
  ['import sys; sys.exit("bye now")', 1, 'bye now\n'],
  ['import sys; sys.exit()', 0, ''],
  ['import sys; sys.exit(None)', 0, ''],
  ['import sys; sys.exit(0)', 0, ''],
  ['import sys; sys.exit(True)', 1, ''],
  ['import sys; sys.exit(300)', 44, ''],
  ['print("out"); import sys; sys.exit(3)', 3, ''],
];

for (const engine of ['micropython', 'cpython']) {
  describe(`pyfence run exit status (${engine})`, () => {
    it('sys.exit(n) and SystemExit(n) end with n and no traceback, as python3', async () => {
      const results = await Promise.all(CASES.map(([code]) => cliAsync(['run', '--engine', engine, '-c', code], { timeoutMs: 120_000 })));
      CASES.forEach(([code, status, stderr], i) => {
        assert.equal(results[i].status, status, `${code}: ${results[i].stderr}`);
        assert.equal(results[i].stderr, stderr, code);
      });
      assert.equal(results.at(-1)!.stdout, 'out\n');
    });

    it('--json tells the program exiting 3 from a fuel stop (also 3)', async () => {
      const [own, stop, raised] = await Promise.all([
        cliAsync(['run', '--json', '--engine', engine, '-c', 'import sys; sys.exit(3)'], { timeoutMs: 120_000 }),
        cliAsync(['run', '--json', '--engine', engine, '--fuel', '1e6', '-c', 'while True: pass'], { timeoutMs: 120_000 }),
        cliAsync(['run', '--json', '--engine', engine, '-c', 'raise ValueError(1)'], { timeoutMs: 120_000 }),
      ]);
      assert.equal(own.status, 3);
      assert.equal(stop.status, 3);
      assert.deepEqual(
        [JSON.parse(own.stdout), JSON.parse(stop.stdout), JSON.parse(raised.stdout)].map((o) => [o.exitCode, o.stop]),
        [[3, null], [3, 'fuel'], [1, null]],
      );
      assert.equal(raised.status, 1);
    });
  });
}

describe('pyfence repl exit status', () => {
  it('sys.exit(n) ends the session with n, as python3', async () => {
    const r = await cliAsync(['repl'], { input: 'x = 4\nimport sys\nsys.exit(x + 1)\nprint("not reached")\n' });
    assert.equal(r.status, 5, r.stderr);
    assert.doesNotMatch(r.stdout, /not reached/);
    assert.equal(r.stderr, '');
  });
});
