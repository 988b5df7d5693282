// The CLI's V8 code cache (src/cli/code-cache.ts, run by the bin dist/bundle/cli.cjs): an entry is
// written by a first run, used (not rewritten) by the next, and never used when it is not whole or
// not made from the file being run; the command works the same with the cache off or unusable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as vm from 'node:vm';
import { cacheFile, readEntry, verifyingChecksums, writeEntry } from '../src/cli/code-cache.js';
import { CLI, ROOT, tempDir } from './helpers.js';

const stamp = { length: 1234, mtimeMs: 1_700_000_000_123.5 };
const code = Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 7) & 0xff));

function runCli(cache: string, args = ['run', '-c', 'print(6 * 7)']) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: cache }, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return r;
}

const entries = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.v8'));

describe('code cache entries', () => {
  it('an entry reads back only made from the same source', () => {
    const dir = tempDir('code-cache-unit');
    const file = cacheFile(dir, 'cli', 'ab'.repeat(32));
    writeEntry(file, stamp, code);
    assert.deepEqual(readEntry(file, stamp), { code, unusual: false });
    writeEntry(file, stamp, code, true);
    assert.deepEqual(readEntry(file, stamp), { code, unusual: true });
    assert.equal(readEntry(file, { ...stamp, length: stamp.length + 1 }), undefined, 'another source length');
    assert.equal(readEntry(file, { ...stamp, mtimeMs: stamp.mtimeMs + 1 }), undefined, 'a source modified since');
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 10));
    assert.equal(readEntry(file, stamp), undefined, 'no whole header');
    assert.equal(readEntry(join(dir, 'absent.v8'), stamp), undefined);
  });

  it("an entry's code is read 8-byte aligned (V8 copies code that is not), into the caller's buffer when it fits", () => {
    const dir = tempDir('code-cache-aligned');
    const file = cacheFile(dir, 'cli', 'ab'.repeat(32));
    writeEntry(file, stamp, code);
    const size = fs.statSync(file).size;
    const fresh = readEntry(file, stamp)!;
    assert.equal(fresh.code.byteOffset % 8, 0, 'aligned in a buffer of its own');
    const scratch = Buffer.alloc(size + 100, 0xee);
    const reused = readEntry(file, stamp, scratch)!;
    assert.deepEqual(reused, { code, unusual: false });
    assert.equal(reused.code.buffer, scratch.buffer, 'a view of the buffer given');
    assert.equal(reused.code.byteOffset % 8, 0, 'aligned in the buffer given');
    const small = Buffer.alloc(size - 1);
    const notFitting = readEntry(file, stamp, small)!;
    assert.deepEqual(notFitting, { code, unusual: false });
    assert.notEqual(notFitting.code.buffer, small.buffer, 'a buffer too small is not written past its end');
    assert.ok(small.every((b) => b === 0), 'nor written at all');
  });

  it('V8 refuses code that is not whole or has a bit flipped (its checksum, turned on for the code cache)', () => {
    const body = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i}; }`).join('\n');
    // Each compile of another text of the same length (V8's key for a code cache): the same text
    // again would come from V8's in-memory compilation cache, which never looks at the code given.
    let compiles = 0;
    const source = () => `(function () { // ${String(compiles++).padStart(4, '0')}\n${body} return f7(6) + f199(1); })`;
    const compile = (cachedData?: Buffer) => verifyingChecksums(() => new vm.Script(source(), { filename: 'code-cache-test.js', cachedData }));
    const made = compile();
    assert.equal(made.runInThisContext()(), 42 + 7 + 199 + 199);
    const data = verifyingChecksums(() => made.createCachedData());
    assert.equal(compile(data).cachedDataRejected, false, 'the code as made is taken');
    assert.equal(compile(data.subarray(0, data.length - 1)).cachedDataRejected, true, 'truncated');
    for (const at of [data.length - 1, Math.floor(data.length / 2), 200]) {
      const flipped = Buffer.from(data);
      flipped[at] ^= 0x10;
      const script = compile(flipped);
      assert.equal(script.cachedDataRejected, true, `a bit flipped at ${at} of ${data.length}`);
      assert.equal(script.runInThisContext()(), 42 + 7 + 199 + 199, 'compiled afresh');
    }
    const flipped = Buffer.from(data);
    flipped[Math.floor(data.length / 2)] ^= 0x10;
    assert.equal(new vm.Script(source(), { filename: 'code-cache-test.js', cachedData: flipped }).cachedDataRejected, true, 'made under the flag: refused without it too (the flags are part of the key)');
  });

  it("writing an entry drops every entry of other builds, and keeps this build's other entries", () => {
    const dir = tempDir('code-cache-prune');
    const old = cacheFile(dir, 'cli-run', 'cd'.repeat(32));
    writeEntry(old, stamp, code);
    fs.writeFileSync(join(dir, 'other.txt'), 'kept');
    const sibling = cacheFile(dir, 'cli-wasm', 'ef'.repeat(32));
    writeEntry(sibling, stamp, code);
    const current = cacheFile(dir, 'cli-run', 'ef'.repeat(32));
    writeEntry(current, stamp, code);
    const name = (path: string) => path.slice(dir.length + 1);
    assert.deepEqual(fs.readdirSync(dir).sort(), [name(current), name(sibling), 'other.txt'].sort());
  });
});

describe('the pyfence command with its code cache', () => {
  it('a first run writes the entry, the next uses it as it is; a corrupt entry is compiled afresh and rewritten', () => {
    const dir = tempDir('code-cache-cli');
    const first = runCli(dir);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, '42\n');
    const [entry] = entries(dir);
    assert.match(entry, /^cli-run\./, 'the first run wrote its command\'s entry');
    const written = fs.readFileSync(join(dir, entry));
    const inode = fs.statSync(join(dir, entry)).ino; // a rewrite renames a new file over it
    // Used: V8 took it, so the run does not write it again (a refused one is rewritten at exit).
    const second = runCli(dir);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, '42\n');
    assert.deepEqual(entries(dir), [entry]);
    assert.equal(fs.statSync(join(dir, entry)).ino, inode, 'a used entry is not written again');
    assert.ok(fs.readFileSync(join(dir, entry)).equals(written));
    // Corrupt: refused (V8's checksum); the run is the same and the entry is whole again after it.
    const corrupt = Buffer.from(written);
    for (let i = 100; i < corrupt.length; i += 997) corrupt[i] ^= 0xff;
    fs.writeFileSync(join(dir, entry), corrupt);
    const third = runCli(dir, ['run', '-c', 'import sys; sys.exit(9)']);
    assert.equal(third.status, 9, third.stderr);
    assert.equal(third.stderr, '');
    assert.ok(!fs.readFileSync(join(dir, entry)).equals(corrupt), 'the corrupt entry was replaced');
  });

  it("pyfence wasm: an entry made by a run that instrumented its module is marked, and replaced once a run from the module cache used it", () => {
    const dir = tempDir('code-cache-wasm');
    const modules = tempDir('code-cache-wasm-modules');
    const hello = join(ROOT, 'test/fixtures/wasm/hello.wasm');
    const wasm = (...flags: string[]) => spawnSync(process.execPath, [CLI, 'wasm', ...flags, hello], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: dir, PYFENCE_WASM_CACHE: modules }, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = () => {
      const [name] = entries(dir);
      return name === undefined ? undefined : { name, inode: fs.statSync(join(dir, name)).ino, unusual: fs.readFileSync(join(dir, name)).readUInt32LE(16) === 1 };
    };
    assert.equal(wasm().stdout, 'Hello, WASI!\n', 'instruments the module');
    const marked = entry();
    assert.ok(marked && /^cli-wasm\./.test(marked.name) && marked.unusual, 'the instrumenting run wrote a marked entry');
    assert.equal(wasm().stdout, 'Hello, WASI!\n', 'from the module cache, with the marked entry');
    assert.equal(entry(), undefined, 'a usual run that used the marked entry removed it');
    assert.equal(wasm().stdout, 'Hello, WASI!\n');
    const lean = entry();
    assert.ok(lean && !lean.unusual, 'the next usual run wrote an unmarked one');
    assert.equal(wasm().stdout, 'Hello, WASI!\n');
    assert.deepEqual(entry(), lean, 'used, not written again');
    // Every run instrumenting (no module cache): each is like the next, so the entry is kept and used.
    const uncached = tempDir('code-cache-wasm-uncached');
    const noCache = () => spawnSync(process.execPath, [CLI, 'wasm', '--no-cache', hello], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: uncached }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(noCache().stdout, 'Hello, WASI!\n');
    const [first] = entries(uncached);
    const inode = fs.statSync(join(uncached, first)).ino;
    assert.equal(noCache().stdout, 'Hello, WASI!\n');
    assert.equal(fs.statSync(join(uncached, first)).ino, inode, 'kept and used');
  });

  it('runs the same with the cache off (no entry written) or in a place it cannot use', () => {
    const dir = tempDir('code-cache-off');
    const off = spawnSync(process.execPath, [CLI, 'run', '-c', 'print(1)'], { cwd: ROOT, env: { ...process.env, PYFENCE_CODE_CACHE: 'off', XDG_CACHE_HOME: dir }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(off.status, 0, off.stderr);
    assert.equal(off.stdout, '1\n');
    assert.deepEqual(fs.readdirSync(dir), []);
    const notADirectory = join(dir, 'a-file');
    fs.writeFileSync(notADirectory, '');
    const unusable = runCli(notADirectory, ['run', '-c', 'print(2)']);
    assert.equal(unusable.status, 0, unusable.stderr);
    assert.equal(unusable.stdout, '2\n');
    assert.equal(unusable.stderr, '');
  });
});
