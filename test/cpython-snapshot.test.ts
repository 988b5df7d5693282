// Snapshots and forks of CPython sessions: what carries over, what stays the restorer's, and what a
// forged snapshot can do (be refused with a SnapshotError, or restore and end every run as a result).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Sandbox, SnapshotError, UsageError, type SandboxOptions } from '../src/index.js';
import { ROOT, tempDir } from './helpers.js';

const CPY = { engine: 'cpython' } as const;
const tmp = tempDir('cpy-snap');
const KEY = 'a key of thirty-two bytes, exact';

// `difflib` is not in the template's preloaded modules: importing it changes the session.
const SESSION = `
import dataclasses, difflib
@dataclasses.dataclass
class Account:
    owner: str
    balance: int
    def deposit(self, n):
        self.balance += n
        return self.balance
def counter():
    n = 0
    while True:
        n += 1
        yield n
acct = Account("ada", 10)
data = list(range(10000))
gen = counter()
next(gen); next(gen)
with open("/notes.txt", "w") as f:
    f.write("written before the snapshot")
`;
const CONTINUE = `import sys
print(acct.deposit(5), acct, sum(data), next(gen), 'difflib' in sys.modules, difflib.SequenceMatcher(None, "abcd", "abed").ratio())
print(open("/notes.txt").read())`;
const EXPECTED = "15 Account(owner='ada', balance=15) 49995000 3 True 0.75\nwritten before the snapshot\n";

async function session(options: SandboxOptions = {}, code = SESSION): Promise<Sandbox> {
  const sb = await Sandbox.create({ ...CPY, ...options });
  (await sb.run(code)).throwIfError();
  return sb;
}

async function snapshotOf(options: SandboxOptions = {}, code = SESSION): Promise<Uint8Array> {
  const sb = await session(options, code);
  const bytes = await sb.snapshot();
  sb.dispose();
  return bytes;
}

/** Runs `body` (an ES module with `Sandbox` and the fs functions imported) in a new Node process. */
function inChild(body: string): unknown {
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { Sandbox } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('CPython snapshots: what carries over', () => {
  it('globals, an imported module, a class instance, a generator and a file continue in another process', async () => {
    const file = join(tmp, 'session.snap');
    const sb = await session();
    const bytes = await sb.snapshot();
    writeFileSync(file, bytes);
    // Importing a module the template has not (difflib, compiled from source) touches a few MiB of heap.
    assert.ok(bytes.length < 4 * 2 ** 20, `snapshot is ${bytes.length} bytes`);
    const child = inChild(`
      const sb = await Sandbox.restore(new Uint8Array(readFileSync(${JSON.stringify(file)})), { engine: 'cpython' });
      const r = await sb.run(${JSON.stringify(CONTINUE)});
      process.stdout.write(JSON.stringify({ stdout: r.stdout, error: r.error }));`);
    assert.deepEqual(child, { stdout: EXPECTED, error: null });
    // Here too, and running the copy leaves the original as it was.
    const copy = await Sandbox.restore(bytes, CPY);
    assert.equal((await copy.run(CONTINUE)).stdout, EXPECTED);
    assert.equal((await sb.run(CONTINUE)).stdout, EXPECTED);
    copy.dispose();
    sb.dispose();
  });

  it('a session that only defined a few things is small: only the pages it changed are in it', async () => {
    const bytes = await snapshotOf({}, 'import json\nd = {"a": [1, 2, 3]}\ndef f(n): return n * 2\nprint(json.dumps(d))');
    assert.ok(bytes.length < 128 * 1024, `snapshot is ${bytes.length} bytes`);
    const sb = await Sandbox.restore(bytes, CPY);
    assert.equal((await sb.run('print(f(21), d)')).stdout, "42 {'a': [1, 2, 3]}\n");
    sb.dispose();
  });

  it('forks twice into independent sandboxes (globals, files, memory)', async () => {
    const sb = await session();
    const a = await sb.fork();
    const b = await sb.fork();
    (await a.run('acct.deposit(100)\nopen("/notes.txt", "w").write("a")\nbig = "A" * 5_000_000')).throwIfError();
    (await b.run('acct.deposit(1)\nimport os\nos.remove("/notes.txt")')).throwIfError();
    assert.equal((await a.run('print(acct.balance, open("/notes.txt").read(), len(big))')).stdout, '110 a 5000000\n');
    assert.equal((await b.run('import os\nprint(acct.balance, os.path.exists("/notes.txt"), "big" in globals())')).stdout, '11 False False\n');
    assert.equal((await sb.run('print(acct.balance, open("/notes.txt").read())')).stdout, '10 written before the snapshot\n');
    assert.equal(new TextDecoder().decode(await sb.fs.readFile('/notes.txt')), 'written before the snapshot');
    // A fork of a fork, and disposing the parent does not touch the children.
    const c = await a.fork();
    sb.dispose();
    a.dispose();
    assert.equal((await c.run('print(acct.balance)')).stdout, '110\n');
    c.dispose();
    b.dispose();
  });

  it('grants come from the restorer: environment, argv and mounts are its own', async () => {
    const hostDir = join(tmp, 'host');
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, 'secret.txt'), 'host file');
    const bytes = await snapshotOf(
      { env: { WHO: 'maker' }, argv: ['made.py'], mounts: [{ host: hostDir, guest: '/mnt' }] },
      'import os, sys\nseen = (os.environ["WHO"], sys.argv[0], open("/mnt/secret.txt").read())',
    );
    const restored = await Sandbox.restore(bytes, { ...CPY, env: { WHO: 'restorer' }, argv: ['restored.py'] });
    const r = await restored.run('import os, sys\nprint(seen, dict(os.environ), sys.argv)\nprint(os.path.exists("/mnt/secret.txt"))');
    assert.equal(r.stdout, "('maker', 'made.py', 'host file') {'WHO': 'restorer'} ['restored.py']\nFalse\n");
    restored.dispose();
  });

  it('a file left open at the snapshot fails cleanly after the restore (descriptors are not carried)', async () => {
    const bytes = await snapshotOf({}, 'f = open("/log.txt", "w")\nf.write("x")\nf.flush()');
    const restored = await Sandbox.restore(bytes, CPY);
    const r = await restored.run('try:\n    f.write("more"); f.flush()\nexcept OSError as e:\n    print("OSError", e.errno)\nprint(open("/log.txt").read())');
    assert.equal(r.stdout, 'OSError 8\nx\n');
    assert.equal((await restored.run('print(1 + 1)')).stdout, '2\n');
    restored.dispose();
  });

  it('in deterministic mode, a restore with the same seed and clock goes on exactly as the original', async () => {
    const options = { seed: 11, clock: { fixedMs: 1_700_000_000_000 } };
    const sb = await session(options, 'import random, os, time\nrandom.random()\nos.urandom(8)\nt0 = time.time()');
    const bytes = await sb.snapshot();
    const next = 'print(random.random(), os.urandom(4).hex(), time.time() >= t0)';
    const original = (await sb.run(next)).stdout;
    const again = [];
    for (let i = 0; i < 2; i++) {
      const r = await Sandbox.restore(bytes, { ...CPY, ...options });
      again.push((await r.run(next)).stdout);
      r.dispose();
    }
    assert.deepEqual(again, [original, original]);
    assert.match(original, / True\n$/);
    // Another seed gives the host's random source another sequence (os.urandom); `random` is the guest's.
    const other = await Sandbox.restore(bytes, { ...CPY, seed: 12, clock: options.clock });
    assert.notEqual((await other.run(next)).stdout, original);
    other.dispose();
    sb.dispose();
  });
});

describe('CPython snapshots: keys, engines and misuse', () => {
  it('keyed: restores with its key only; a keyed restorer refuses unkeyed snapshots', async () => {
    const signed = await snapshotOf({ snapshotKey: KEY });
    const restored = await Sandbox.restore(signed, { ...CPY, snapshotKey: KEY });
    assert.equal((await restored.run(CONTINUE)).stdout, EXPECTED);
    await Sandbox.restore(await restored.snapshot(), { ...CPY, snapshotKey: KEY }).then((s) => s.dispose());
    assert.ok((await restored.fork()) instanceof Sandbox);
    restored.dispose();
    const refused = (p: Promise<unknown>, message: RegExp) => assert.rejects(p, (e: unknown) => e instanceof SnapshotError && message.test(e.message));
    await refused(Sandbox.restore(signed, CPY), /signed with a key/);
    await refused(Sandbox.restore(signed, { ...CPY, snapshotKey: 'another key of 32 bytes, exactly' }), /signature mismatch/);
    const plain = await snapshotOf();
    await refused(Sandbox.restore(plain, { ...CPY, snapshotKey: KEY }), /not signed/);
  });

  it('a snapshot of one engine is refused by the other, naming the engine to use', async () => {
    const mp = await Sandbox.create();
    (await mp.run('x = 1')).throwIfError();
    const mpBytes = await mp.snapshot();
    mp.dispose();
    const cpyBytes = await snapshotOf();
    await assert.rejects(Sandbox.restore(mpBytes, CPY), (e: unknown) => e instanceof SnapshotError && /engine 'micropython'/.test(e.message));
    await assert.rejects(Sandbox.restore(cpyBytes), (e: unknown) => e instanceof SnapshotError && /restore it with \{ engine: 'cpython' \}/.test(e.message));
  });

  it('a snapshot during a run is refused clearly, and the run goes on', async () => {
    const sb = await Sandbox.create(CPY);
    const attempts: Promise<unknown>[] = [];
    const r = await sb.run('print("a")\nx = 2', {
      onStdout: () => {
        attempts.push(new Promise((resolve) => resolve(sb.snapshotSync())), sb.snapshot(), sb.fork());
      },
    });
    assert.equal(r.ok, true);
    assert.equal(attempts.length, 3);
    for (const attempt of attempts) await assert.rejects(attempt, (e: unknown) => e instanceof UsageError && /while it runs/.test(e.message));
    assert.ok((await sb.snapshot()).length > 0);
    sb.dispose();
    await assert.rejects(sb.snapshot(), /disposed/);
  });

  it('a restored sandbox enforces fuel, deadline and memory limits', async () => {
    const bytes = await snapshotOf();
    const sb = await Sandbox.restore(bytes, { ...CPY, limits: { fuel: 50_000_000, timeoutMs: 5_000, memoryBytes: 48 * 2 ** 20 } });
    assert.equal((await sb.run('while True: pass')).error?.kind, 'fuel');
    assert.equal((await sb.run('x = bytearray(100 * 2**20)')).error?.kind, 'memory');
    assert.equal((await sb.run('print(acct.balance)')).stdout, '10\n');
    assert.equal((await sb.run('while True: pass', { limits: { fuel: Infinity, timeoutMs: 300 } })).error?.kind, 'timeout');
    sb.dispose();
  });

  it("a session that sabotaged the runner's setup is refused in bounded time, under the restorer's limits", async () => {
    const sabotage = {
      spin: 'import sys\ndef spin(*a):\n    while True: pass\nsys.modules["_pyfence"].setup = spin',
      hog: 'import sys\ndef hog(*a):\n    keep = []\n    while True: keep.append(bytearray(2**20))\nsys.modules["_pyfence"].setup = hog',
    };
    for (const [name, code] of Object.entries(sabotage)) {
      const bytes = await snapshotOf({}, code);
      const started = performance.now();
      await assert.rejects(
        Sandbox.restore(bytes, { ...CPY, limits: { timeoutMs: 1_000, memoryBytes: 64 * 2 ** 20 } }),
        (e: unknown) => e instanceof SnapshotError && /cannot be set up/.test(e.message),
        name,
      );
      assert.ok(performance.now() - started < 30_000, name);
    }
  });

  it('a session whose memory grew restores only under a limit that holds it', async () => {
    const bytes = await snapshotOf({ limits: { memoryBytes: 128 * 2 ** 20 } }, 'keep = bytearray(60 * 2**20)');
    await assert.rejects(Sandbox.restore(bytes, { ...CPY, limits: { memoryBytes: 64 * 2 ** 20 } }), (e: unknown) => e instanceof SnapshotError && /over the limit/.test(e.message));
    const sb = await Sandbox.restore(bytes, { ...CPY, limits: { memoryBytes: 128 * 2 ** 20 } });
    assert.equal((await sb.run('print(len(keep))')).stdout, `${60 * 2 ** 20}\n`);
    sb.dispose();
  });
});

// The layout of format 2 (src/engine/snapshot.ts), written out here as an attacker would.
const HEADER = 16 + 4 + 32 + 4 + 4;
const HASH_AT = 16 + 4;
const FLAGS_AT = 16 + 4 + 32;

interface Opened {
  header: Uint8Array;
  meta: Record<string, any>;
  pages: Uint8Array;
}

function open(bytes: Uint8Array): Opened {
  const body = inflateRawSync(bytes.subarray(HEADER, bytes.length - 32));
  const metaLength = body.readUInt32LE(0);
  return { header: bytes.slice(0, HEADER), meta: JSON.parse(body.subarray(4, 4 + metaLength).toString('utf8')), pages: new Uint8Array(body.subarray(4 + metaLength)) };
}

/** Re-frames `o` with a recomputed sha256 tag: what anyone can do to an unkeyed snapshot. */
function reseal(o: Opened): Uint8Array {
  let metaText = JSON.stringify(o.meta);
  while (Buffer.byteLength(metaText) % 4) metaText += ' ';
  const meta = Buffer.from(metaText);
  const plain = Buffer.alloc(4 + meta.length + o.pages.length);
  plain.writeUInt32LE(meta.length, 0);
  meta.copy(plain, 4);
  plain.set(o.pages, 4 + meta.length);
  const body = deflateRawSync(plain);
  const out = new Uint8Array(HEADER + body.length + 32);
  out.set(o.header);
  new DataView(out.buffer).setUint32(HEADER - 4, body.length, true);
  out.set(body, HEADER);
  out.set(createHash('sha256').update(out.subarray(0, HEADER + body.length)).digest(), HEADER + body.length);
  return out;
}

function forged(good: Uint8Array, change: (o: Opened) => void): Uint8Array {
  const o = open(good);
  change(o);
  return reseal(o);
}

describe('CPython snapshots: forgeries', () => {
  it('every malformed or foreign field is refused with a SnapshotError, and the process is unharmed', async () => {
    const good = await snapshotOf();
    const flip = (at: number) => {
      const bad = good.slice();
      bad[at] ^= 0x10;
      return bad;
    };
    const pageCount = (o: Opened) => o.meta.memoryBytes / 4096;
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /not a pyfence snapshot/],
      ['truncated', good.subarray(0, good.length - 1), /truncated/],
      ['trailing bytes', new Uint8Array([...good, 0]), /truncated or has trailing/],
      ['flipped magic', flip(3), /not a pyfence snapshot/],
      ['flipped version', flip(16), /version/],
      ['flipped body', flip(HEADER + 40), /checksum mismatch/],
      ['flipped tag', flip(good.length - 5), /checksum mismatch/],
      ['unknown engine', forged(good, (o) => new DataView(o.header.buffer).setUint32(FLAGS_AT, 7 << 8, true)), /unknown flags/],
      ['micropython engine', forged(good, (o) => new DataView(o.header.buffer).setUint32(FLAGS_AT, 0, true)), /engine 'micropython'/],
      ['another build', forged(good, (o) => (o.header[HASH_AT + 3] ^= 1)), /another sandbox module \(cpython build/],
      ['another template', forged(good, (o) => (o.meta.template = '0'.repeat(64))), /another initialised CPython state/],
      ['memory over the limit', forged(good, (o) => (o.meta.memoryBytes = 96 * 2 ** 20)), /over the limit of/],
      ['memory over the module maximum', forged(good, (o) => (o.meta.memoryBytes = 2 ** 32)), /over the limit|larger than the module/],
      ['memory smaller than the template', forged(good, (o) => (o.meta.memoryBytes = 2 ** 20)), /memory size is invalid/],
      ['memory not in wasm pages', forged(good, (o) => (o.meta.memoryBytes += 4096)), /memory size is invalid/],
      ['memory size not a number', forged(good, (o) => (o.meta.memoryBytes = '31457280')), /memory size is invalid/],
      ['page past the memory', forged(good, (o) => (o.meta.pages[o.meta.pages.length - 1][0] = pageCount(o))), /out of order or out of range/],
      ['run past the memory', forged(good, (o) => (o.meta.pages[o.meta.pages.length - 1][1] = pageCount(o))), /out of order or out of range/],
      ['negative page', forged(good, (o) => (o.meta.pages[0][0] = -1)), /out of order or out of range/],
      ['pages out of order', forged(good, (o) => o.meta.pages.reverse()), /out of order or out of range/],
      ['empty run', forged(good, (o) => (o.meta.pages[0][1] = 0)), /out of order or out of range/],
      ['fractional page', forged(good, (o) => (o.meta.pages[0][0] = 0.5)), /page index is malformed/],
      ['page run not a pair', forged(good, (o) => (o.meta.pages[0] = [1, 2, 3])), /page index is malformed/],
      ['pages not a list', forged(good, (o) => (o.meta.pages = { 0: 1 })), /metadata is malformed/],
      ['fewer page bytes than the index', forged(good, (o) => (o.pages = o.pages.subarray(0, o.pages.length - 4096))), /do not match their index/],
      ['more page bytes than the index', forged(good, (o) => (o.pages = new Uint8Array([...o.pages, ...new Uint8Array(4096)]))), /do not match their index/],
      ['a global missing', forged(good, (o) => delete o.meta.globals.pyfence_state_0), /globals are not this module's/],
      ['a foreign global', forged(good, (o) => (o.meta.globals = { ...o.meta.globals, pyfence_fuel: 1 })), /globals are not this module's/],
      ['a renamed global', forged(good, (o) => {
        o.meta.globals.memory = o.meta.globals.pyfence_state_1;
        delete o.meta.globals.pyfence_state_1;
      }), /globals are not this module's/],
      ['a global out of i32 range', forged(good, (o) => (o.meta.globals.pyfence_state_0 = 2 ** 31)), /global pyfence_state_0 has an invalid value/],
      ['a fractional global', forged(good, (o) => (o.meta.globals.pyfence_state_0 = 1.5)), /invalid value/],
      ['a global as a string', forged(good, (o) => (o.meta.globals.pyfence_state_0 = '1')), /invalid value/],
      ['globals not an object', forged(good, (o) => (o.meta.globals = [1, 2, 3, 4])), /globals are malformed/],
      ['zone pointer past the memory', forged(good, (o) => (o.meta.zoneName = o.meta.memoryBytes)), /time-zone pointer/],
      ['files escaping the root', forged(good, (o) => (o.meta.sections.files = { '/../../etc/x': 'aGk=' })), /files section is malformed/],
      ['a file that is not base64 text', forged(good, (o) => (o.meta.sections.files = { '/f': 5 })), /files section is malformed/],
      ['files not an object', forged(good, (o) => (o.meta.sections.files = 'x')), /files section is malformed/],
      ['files over the restorer\'s quota', forged(good, (o) => (o.meta.sections.files = { '/big': Buffer.alloc(2 ** 20).toString('base64') })), /files cannot be restored here/],
      ['determinism malformed', forged(good, (o) => (o.meta.sections.determinism = { clock: { startMs: 0, elapsedMs: -1 }, random: null })), /determinism section/],
      ['virtual time beyond any clock', forged(good, (o) => (o.meta.sections.determinism = { clock: { startMs: 0, elapsedMs: 1e300 }, random: null })), /determinism section/],
      ['random state out of range', forged(good, (o) => (o.meta.sections.determinism = { clock: null, random: { seed: 1, state: 2 ** 32 } })), /determinism section/],
      ['sections missing', forged(good, (o) => delete o.meta.sections), /metadata is malformed/],
      ['metadata not JSON', forged(good, (o) => (o.meta = null as never)), /metadata is malformed/],
    ];
    for (const [name, bytes, message] of cases) {
      await assert.rejects(
        Sandbox.restore(bytes, { ...CPY, limits: { timeoutMs: 5_000 }, fsQuota: { bytes: 2 ** 19 } }),
        (e: unknown) => e instanceof SnapshotError && message.test(e.message),
        name,
      );
    }
    // A body that inflates past the memory limit is refused while inflating, not after.
    const bomb = forged(good, (o) => (o.pages = new Uint8Array(200 * 2 ** 20)));
    await assert.rejects(Sandbox.restore(bomb, CPY), (e: unknown) => e instanceof SnapshotError && /cannot be read/.test(e.message));
    // The process is unharmed: the real snapshot restores, a new sandbox runs.
    const sb = await Sandbox.restore(good, CPY);
    assert.equal((await sb.run(CONTINUE)).stdout, EXPECTED);
    sb.dispose();
    const fresh = await Sandbox.create(CPY);
    assert.equal((await fresh.run('print(1 + 1)')).stdout, '2\n');
    fresh.dispose();
  });

  it('an unkeyed snapshot may set the guest memory arbitrarily: it restores and runs to a result, or is refused', async () => {
    const good = await snapshotOf();
    let s = Number(process.env.PYFENCE_FUZZ_SEED ?? 20261201);
    const rnd = (n: number) => Math.floor(((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * n);
    const tally: Record<string, number> = {};
    for (let i = 0; i < 24; i++) {
      const bytes = forged(good, (o) => {
        if (i % 3 === 0) for (let j = 0; j < 1 + rnd(20); j++) o.pages[rnd(o.pages.length)] ^= 1 << rnd(8);
        if (i % 3 === 1) o.pages.fill(rnd(256), rnd(o.pages.length), o.pages.length);
        if (i % 3 === 2) o.meta.globals[`pyfence_state_${rnd(4)}`] = [0, -1, 4096, 2 ** 31 - 1, -(2 ** 31)][rnd(5)];
      });
      let outcome: string;
      try {
        const sb = await Sandbox.restore(bytes, { ...CPY, limits: { timeoutMs: 2_000, fuel: 2e9 } });
        const r = await sb.run(CONTINUE);
        outcome = r.ok ? 'ran' : `result ${r.error?.kind}`;
        sb.dispose();
      } catch (e) {
        assert.ok(e instanceof SnapshotError, `case ${i}: ${(e as Error)?.stack ?? e}`);
        outcome = 'refused';
      }
      tally[outcome] = (tally[outcome] ?? 0) + 1;
    }
    // The corpus must exercise both sides, or it tests nothing.
    assert.ok((tally.refused ?? 0) > 0 && (tally.ran ?? 0) > 0, JSON.stringify(tally));
    const fresh = await Sandbox.create(CPY);
    assert.equal((await fresh.run('print(1 + 1)')).stdout, '2\n');
    fresh.dispose();
  });
});
