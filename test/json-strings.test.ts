// json.dumps writes runs of characters that need no escape with one call of the printer
// (build/passes/json-strings.ts): the same text as before, escapes and UTF-8 included, for less work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { Sandbox } from '../src/index.js';
import { printJsonRunsAtOnce } from '../build/passes/json-strings.js';
import { ROOT } from './helpers.js';

const PROGRAM = readFileSync(join(ROOT, 'test/programs/json-strings.py'), 'utf8');
/** sha256 of the program's output on the build before the pass (and of python3's, shimmed below). */
const EXPECTED_SHA256 = '4ad22270402ae56f5861648ef767d71511b157c36ef8ab1349620bd3fce230db';
// python3 with MicroPython's two differences: \b and \f as \u0008 and \u000c, UTF-8 left as it is.
const PYTHON3_SHIM = String.raw`import json, re, sys
_dumps = json.dumps
def dumps(o):
    s = _dumps(o, ensure_ascii=False)
    s = re.sub(r'(?<!\\)((?:\\\\)*)\\b', lambda m: m.group(1) + '\\u0008', s)
    return re.sub(r'(?<!\\)((?:\\\\)*)\\f', lambda m: m.group(1) + '\\u000c', s)
json.dumps = dumps
exec(sys.stdin.read())`;

async function run(code: string) {
  const sb = await Sandbox.create();
  try {
    return await sb.run(code);
  } finally {
    sb.dispose();
  }
}

describe('json.dumps of strings', { timeout: 120_000 }, () => {
  it('writes every kind of string as it did, and as python3 does', async () => {
    const r = await run(PROGRAM);
    r.throwIfError();
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), EXPECTED_SHA256);
    const python3 = spawnSync('python3', ['-c', PYTHON3_SHIM], { input: PROGRAM, encoding: 'utf8' });
    if (python3.status === 0) assert.equal(r.stdout, python3.stdout);
  });

  it('writes a run of plain characters at once: far less fuel than as many escapes', async () => {
    const dumps = (s: string) => run(`import json\ns = ${s}\nfor i in range(3):\n    json.dumps(s)`);
    const [plain, escaped] = [await dumps('"x" * 100000'), await dumps('"\\n" * 100000')];
    // Measured: 1.9e7 and 3.5e8 units; a character at a time (the build before), both were ~3e8.
    assert.ok(plain.usage.fuel < escaped.usage.fuel / 5, `plain ${plain.usage.fuel}, escaped ${escaped.usage.fuel}`);
  });

  it('stops the build when the printer is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => printJsonRunsAtOnce(m), /json-strings: expected one mp_str_print_json/);
    m.dispose();
  });
});
