// Agent-style CPython programs (test/fixtures/cpython/*.py): stdout identical to python3's, under
// default limits. The expected outputs are stored (X.out, X.err for programs that fail on purpose), so
// the suite fails without python3 too; when python3 is on PATH its output is compared as well.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';
import { Sandbox } from '../src/index.js';

const DIR = join(ROOT, 'test/fixtures/cpython');
const programs = readdirSync(DIR).filter((f) => f.endsWith('.py')).sort();
const python3 = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;

/** A traceback without caret/tilde marker lines, whose placement differs between CPython versions. */
function comparableTraceback(text: string): string[] {
  return text.split('\n').filter((line) => !/^\s*[~^]+\s*$/.test(line));
}

// The suite's bound is the sum of its programs' (each a few seconds at most, several on a loaded machine).
describe('CPython engine: agent-style programs match python3', { timeout: 900_000 }, () => {
  it('has at least 40 programs', () => assert.ok(programs.length >= 40, `${programs.length} programs`));

  for (const file of programs) {
    it(file, async (t) => {
      const base = file.slice(0, -3);
      const code = readFileSync(join(DIR, file), 'utf8');
      const sb = await Sandbox.create({ engine: 'cpython', argv: [file] });
      const r = await sb.run(code);
      sb.dispose();
      assert.equal(r.stdout, readFileSync(join(DIR, `${base}.out`), 'utf8'));
      const errFile = join(DIR, `${base}.err`);
      if (existsSync(errFile)) {
        assert.equal(r.ok, false);
        const expected = readFileSync(errFile, 'utf8');
        assert.equal(r.error?.kind, 'python');
        assert.deepEqual(comparableTraceback(r.error!.traceback!), comparableTraceback(expected));
      } else {
        assert.equal(r.ok, true, JSON.stringify(r.error));
      }
      if (!python3) return t.skip('python3 not on PATH: compared with the stored output only');
      const native = spawnSync('python3', [file], { cwd: DIR, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.stdout, native.stdout, 'python3 printed something else');
    });
  }
});
