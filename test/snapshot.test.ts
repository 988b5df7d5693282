import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Sandbox, SnapshotError } from '../src/index.js';
import { ROOT, tempDir } from './helpers.js';

const tmp = tempDir('snap');

const SESSION = `
import json
class Account:
    def __init__(self, owner, balance):
        self.owner, self.balance = owner, balance
    def deposit(self, n):
        self.balance += n
        return self.balance
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def counter():
    n = 0
    while True:
        n += 1
        yield n
acct = Account("ada", 10)
data = list(range(10000))
gen = counter()
next(gen); next(gen)
squares = {i: i * i for i in range(100)}
`;
const CONTINUE = `print(fib(15), acct.deposit(5), sum(data), next(gen), squares[9], type(acct).__name__)`;
const EXPECTED = '610 15 49995000 3 81 Account\n';

/** Runs an ES module script (with `Sandbox` imported) in a new Node process; its stdout as JSON. */
function inChild(body: string) {
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { Sandbox } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Makes a session in a new process and saves its snapshot to `file`. */
function snapshotInChild(file: string, code: string) {
  return inChild(`
    const sb = await Sandbox.create();
    const r = await sb.run(${JSON.stringify(code)});
    writeFileSync(${JSON.stringify(file)}, await sb.snapshot());
    process.stdout.write(JSON.stringify({ stdout: r.stdout, error: r.error }));`);
}

/** Restores `file` in a new process and runs `code` there. */
function restoreInChild(file: string, code = CONTINUE) {
  return inChild(`
    try {
      const sb = await Sandbox.restore(new Uint8Array(readFileSync(${JSON.stringify(file)})));
      const r = await sb.run(${JSON.stringify(code)});
      process.stdout.write(JSON.stringify({ stdout: r.stdout, error: r.error }));
    } catch (e) {
      process.stdout.write(JSON.stringify({ refused: e.name + ': ' + e.message }));
    }`);
}

describe('snapshots', () => {
  it('continues a session made in one process in another, and stays small', async () => {
    const file = join(tmp, 'session.snap');
    assert.deepEqual(snapshotInChild(file, SESSION), { stdout: '', error: null });
    const size = readFileSync(file).length;
    assert.ok(size <= 200 * 1024, `snapshot is ${size} bytes`);
    assert.deepEqual(restoreInChild(file), { stdout: EXPECTED, error: null });
    // In this process too, and the original state is untouched by running the copy.
    const sb = await Sandbox.restore(new Uint8Array(readFileSync(file)));
    assert.equal((await sb.run(CONTINUE)).stdout, EXPECTED);
    sb.dispose();
  });

  it('refuses flipped bytes, truncation, foreign data and another module version', async () => {
    const sb = await Sandbox.create();
    (await sb.run('x = 1')).throwIfError();
    const good = sb.snapshotSync();
    sb.dispose();
    const cases: [string, Uint8Array, RegExp][] = [];
    for (const at of [0, 20, 60, good.length >> 1, good.length - 1]) {
      const bad = good.slice();
      bad[at] ^= 0x40;
      cases.push([`flip at ${at}`, bad, /not a pyfence snapshot|checksum|version|truncated|another sandbox module/]);
    }
    cases.push(['truncated', good.subarray(0, good.length - 10), /truncated/]);
    cases.push(['empty', new Uint8Array(0), /not a pyfence snapshot/]);
    cases.push(['random', new Uint8Array(4096).map((_, i) => (i * 7919) & 255), /not a pyfence snapshot/]);
    // A snapshot of another module version: same format, another module hash, valid checksum.
    const foreign = good.slice();
    foreign[16 + 4] ^= 1;
    const { createHash } = await import('node:crypto');
    foreign.set(createHash('sha256').update(foreign.subarray(0, foreign.length - 32)).digest(), foreign.length - 32);
    cases.push(['other module', foreign, /made by another sandbox module/]);
    for (const [name, bytes, message] of cases) {
      await assert.rejects(Sandbox.restore(bytes), (e: unknown) => e instanceof SnapshotError && message.test(e.message), name);
    }
    // Across processes too.
    const file = join(tmp, 'flipped.snap');
    writeFileSync(file, cases[3][1]);
    assert.match(restoreInChild(file).refused, /^SnapshotError: /);
  });

  it('takes grants and limits from the restorer, never from the snapshot', async () => {
    const sb = await Sandbox.create({ modules: { secret: { get: () => 's3cret' } }, env: { TOKEN: 't' } });
    (await sb.run('import secret, os\nkept = secret.get()\nmod = secret')).throwIfError();
    const bytes = await sb.snapshot();
    sb.dispose();
    const plain = await Sandbox.restore(bytes);
    const r = await plain.run(`
import os, sys
print(kept, os.getenv("TOKEN"), "secret" in sys.modules)
try:
    mod.get()
except AttributeError as e:
    print("refused")
`);
    r.throwIfError();
    assert.equal(r.stdout, 's3cret None False\nrefused\n');
    plain.dispose();
    // A restorer's memory limit below what the snapshot needs is refused.
    const big = await Sandbox.create();
    (await big.run('blob = bytearray(8 * 1024 * 1024)')).throwIfError();
    const bigBytes = await big.snapshot();
    big.dispose();
    await assert.rejects(Sandbox.restore(bigBytes, { limits: { memoryBytes: 4 * 1024 * 1024 } }), SnapshotError);
  });

  it('forks independent copies, inline and in workers', async () => {
    for (const isolation of ['inline', 'worker'] as const) {
      const sb = await Sandbox.create({ isolation });
      (await sb.run('items = [1, 2]\ndef add(x):\n    items.append(x)\n    return len(items)')).throwIfError();
      const a = await sb.fork();
      const b = await sb.fork();
      assert.equal((await a.run('print(add(3), items)')).stdout, '3 [1, 2, 3]\n');
      assert.equal((await b.run('print(add(30), add(40), items)')).stdout, '3 4 [1, 2, 30, 40]\n');
      assert.equal((await sb.run('print(items)')).stdout, '[1, 2]\n');
      // A worker snapshot restores inline too.
      const moved = await Sandbox.restore(await a.snapshot());
      assert.equal((await moved.run('print(add(4))')).stdout, '4\n');
      for (const s of [sb, a, b, moved]) s.dispose();
    }
  });
});
