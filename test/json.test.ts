// json's fast paths. json.dumps writes runs of characters that need no escape with one call of the
// printer (build/passes/json-strings.ts); json.loads reads a StringIO's bytes directly
// (build/passes/json-stream.ts). The same text and values as before, for less work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { printJsonRunsAtOnce } from '../build/passes/json-strings.js';
import { readJsonFromStringioDirectly, stringioReadSlot } from '../build/passes/json-stream.js';
import { definedFunctionNames } from '../build/wasm-inspect.js';
import { expressions } from '../build/walk.js';
import { sandboxModulePath } from '../src/guests/micropython/module.js';
import { ROOT } from './helpers.js';
import { runOnce } from './run-once.js';

const PROGRAM = readFileSync(join(ROOT, 'test/programs/json-strings.py'), 'utf8');
const LOADS = readFileSync(join(ROOT, 'test/programs/json-loads.py'), 'utf8');
/** sha256 of json-loads.py's output: python3's (its file in a temporary directory) and the build's before the pass. */
const LOADS_SHA256 = 'b452ad2857c7960eb77dc9879f28052f1aaa3dee58a5e379030d594e377a352d';
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

describe('json', { timeout: 120_000 }, () => {
  it('writes every kind of string as it did, and as python3 does', async () => {
    const r = await runOnce(PROGRAM);
    r.throwIfError();
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), EXPECTED_SHA256);
    const python3 = spawnSync('python3', ['-c', PYTHON3_SHIM], { input: PROGRAM, encoding: 'utf8' });
    if (python3.status === 0) assert.equal(r.stdout, python3.stdout);
  });

  it('writes a run of plain characters at once: far less fuel than as many escapes', async () => {
    const dumps = (s: string) => runOnce(`import json\ns = ${s}\nfor i in range(3):\n    json.dumps(s)`);
    const [plain, escaped] = [await dumps('"x" * 100000'), await dumps('"\\n" * 100000')];
    // Measured: 1.9e7 and 3.5e8 units; a character at a time (the build before), both were ~3e8.
    assert.ok(plain.usage.fuel < escaped.usage.fuel / 5, `plain ${plain.usage.fuel}, escaped ${escaped.usage.fuel}`);
  });

  it('loads every shape of document from a str, bytes, StringIO and a file as python3 does', async () => {
    const r = await runOnce(LOADS);
    r.throwIfError();
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), LOADS_SHA256);
  });

  it('ships the StringIO fast path: a comparison of the stream\'s read with the slot StringIO\'s read has', () => {
    const m = binaryen.readBinary(readFileSync(sandboxModulePath('metered')));
    try {
      const slot = stringioReadSlot(m);
      const comparesSlot = (e: number) => {
        if (binaryen.getExpressionId(e) !== binaryen.BinaryId) return false;
        const b = binaryen.getExpressionInfo(e) as binaryen.BinaryInfo;
        if (b.op !== binaryen.EqInt32 || binaryen.getExpressionId(b.left) !== binaryen.LoadId || binaryen.getExpressionId(b.right) !== binaryen.ConstId) return false;
        return (binaryen.getExpressionInfo(b.left) as binaryen.LoadInfo).offset === 4 && (binaryen.getExpressionInfo(b.right) as binaryen.ConstInfo).value === slot;
      };
      const found = definedFunctionNames(m).filter((name) => expressions(binaryen.getFunctionInfo(m.getFunction(name)).body).some(comparesSlot));
      assert.equal(found.length, 1, `functions comparing a read with slot ${slot}: ${found.length}`);
    } finally {
      m.dispose();
    }
  });

  it('reads the bytes of a str in the parser itself: no call per byte', async () => {
    // The same document but 1,000 strings of 100 letters longer (104 bytes each with quotes and ", ").
    const code = (n: number) => `import json\ns = "[" + ", ".join(['"' + "abcdefghij" * 10 + '"'] * ${n}) + "]"\nprint(len(json.loads(s)))`;
    const [short, long] = [await runOnce(code(100)), await runOnce(code(1100))];
    short.throwIfError();
    long.throwIfError();
    assert.equal(long.stdout, '1100\n');
    // Fuel is deterministic. The builds before called json_stream_next for each byte: 413 fuel a byte
    // (main at 2b6745c), 424 with its old body split off; 335 with the read in the parser.
    const perByte = (long.usage.fuel - short.usage.fuel) / (1000 * 104);
    assert.ok(perByte < 380, `fuel per byte loaded: ${perByte}`);
  });

  it('stops the build when a function it rewrites is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => printJsonRunsAtOnce(m), /json-strings: expected one mp_str_print_json/);
    assert.throws(() => readJsonFromStringioDirectly(m), /json-stream: expected one StringIO's read/);
    m.dispose();
  });
});
