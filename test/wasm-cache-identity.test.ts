// The disk cache's rules (src/instrument/disk-cache.ts): a file met again is found by its identity
// without being read, but only once its timestamps are old enough to trust; a file changed with its
// mtime put back is read again; an entry is used only when it is a regular file of this user's that
// no one else may write, of the size and checksum recorded, and anything else is refused and rebuilt.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { checksum64 } from '../src/instrument/checksum.js';
import { RACY_MS, startEntryCompile, takeEntryCompile } from '../src/instrument/disk-cache.js';
import { clearModuleCache, loadModuleFile, type LoadedModule } from '../src/instrument/load.js';
import { warmupModule } from '../src/instrument/warmup-module.js';
import { sha256Hex } from '../src/core/lazy-builtins.js';
import { tempDir } from './helpers.js';

/** Loads `file` as a first load in a fresh process would (no memory cache), counting reads of it. */
async function load(file: string, cacheDir: string): Promise<LoadedModule & { reads: number }> {
  clearModuleCache();
  let reads = 0;
  const loaded = await loadModuleFile(file, cacheDir, async () => {
    reads++;
    return fs.readFileSync(file);
  });
  return { ...loaded, reads };
}

/** Waits (bounded) until the file's timestamps are old enough for its identity to be recorded. */
async function settled(file: string): Promise<void> {
  const st = fs.statSync(file);
  const newest = Math.max(st.mtimeMs, st.ctimeMs);
  await sleep(Math.max(0, newest + RACY_MS + 100 - Date.now()));
}

/** warmupModule(20) with a custom section named `tag` (one letter): modules of one size, each its own. */
const tagged = (tag: string) => Buffer.concat([warmupModule(20), Buffer.from([0, 2, 1, tag.charCodeAt(0)])]);

const records = (dir: string) => fs.readdirSync(dir).filter((name) => name.endsWith('.file'));

describe('the disk cache of instrumented modules', { timeout: 60_000 }, () => {
  it('the checksum changes with any one byte of an entry', () => {
    const bytes = warmupModule(30);
    const sum = checksum64(bytes);
    assert.match(sum, /^[0-9a-f]{16}$/);
    assert.equal(checksum64(Uint8Array.from(bytes)), sum);
    for (const at of [0, 1, 7, 8, Math.floor(bytes.length / 2), bytes.length - 1]) {
      for (const flip of [1, 0x80]) {
        const changed = Uint8Array.from(bytes);
        changed[at] ^= flip;
        assert.notEqual(checksum64(changed), sum, `byte ${at} ^ ${flip}`);
      }
    }
  });

  it('finds a settled file by its identity unread, and reads a file changed with its mtime put back', async () => {
    const dir = tempDir('identity');
    const cache = join(dir, 'cache');
    const file = join(dir, 'prog.wasm');
    fs.writeFileSync(file, tagged('a'));
    const past = Math.floor(Date.now() / 1000) - 60; // whole seconds: put back exactly below, to the nanosecond
    fs.utimesSync(file, past, past);

    const first = await load(file, cache);
    assert.deepEqual([first.source, first.reads], ['instrumented', 1]);
    assert.deepEqual(records(cache), [], 'a file written just now is not recorded: a change in the same tick would go unseen');

    await settled(file);
    const second = await load(file, cache);
    assert.deepEqual([second.source, second.reads, second.sha256], ['disk', 1, first.sha256]);
    assert.equal(records(cache).length, 1);
    const third = await load(file, cache);
    assert.deepEqual([third.source, third.reads, third.sha256], ['disk', 0, first.sha256], 'found by identity, not read');

    // Other contents, the old mtime put back: the ctime moved, so the identity is another one.
    const before = fs.statSync(file, { bigint: true });
    const other = tagged('b');
    fs.writeFileSync(file, other);
    fs.utimesSync(file, past, past);
    const after = fs.statSync(file, { bigint: true });
    assert.deepEqual([after.mtimeNs, after.size, after.ino], [before.mtimeNs, before.size, before.ino], 'only the ctime tells the change');
    const changed = await load(file, cache);
    assert.deepEqual([changed.source, changed.reads, changed.sha256], ['instrumented', 1, sha256Hex(other)]);
    // And once that change is old enough to trust (with the ctime left out of the identity, the old record would be found).
    await settled(file);
    const settledChange = await load(file, cache);
    assert.deepEqual([settledChange.source, settledChange.reads, settledChange.sha256], ['disk', 1, sha256Hex(other)]);
  });

  it('a compile started early (the launcher, for pyfence wasm) is of a checked entry, and taken once by the load', async () => {
    const dir = tempDir('early');
    const cache = join(dir, 'cache');
    const file = join(dir, 'prog.wasm');
    fs.writeFileSync(file, warmupModule(22));
    assert.equal(startEntryCompile(cache, file), false, 'nothing cached yet');
    await settled(file);
    const made = await load(file, cache);
    await load(file, cache); // records the identity
    assert.equal(startEntryCompile(cache, file), true);
    const taken = await load(file, cache);
    assert.deepEqual([taken.source, taken.reads, taken.meta.report.functions], ['disk', 0, 22]);
    assert.equal(takeEntryCompile(cache, made.sha256), undefined, 'taken by the load');

    const entry = join(cache, `${made.sha256}.v6.wasm`);
    const good = fs.readFileSync(entry);
    fs.writeFileSync(entry, Buffer.from(good.map((b, i) => (i === 100 ? b ^ 1 : b))));
    assert.equal(startEntryCompile(cache, file), false, 'a damaged entry is not compiled');
    assert.equal(startEntryCompile(cache, join(dir, 'missing.wasm')), false);
  });

  it("refuses an entry changed, replaced by a link, writable by others or another user's, and rebuilds it", async () => {
    const dir = tempDir('entry');
    const cache = join(dir, 'cache');
    const file = join(dir, 'prog.wasm');
    fs.writeFileSync(file, warmupModule(25));
    await settled(file);
    const made = await load(file, cache);
    assert.equal(made.source, 'instrumented');
    const entry = join(cache, `${made.sha256}.v6.wasm`);
    const good = fs.readFileSync(entry);
    assert.equal((await load(file, cache)).reads, 0);

    const spoil: [string, () => void][] = [
      ['one bit flipped, same size', () => fs.writeFileSync(entry, Buffer.from(good.map((b, i) => (i === good.length >> 1 ? b ^ 4 : b))))],
      ['cut short', () => fs.writeFileSync(entry, good.subarray(0, good.length - 8))],
      [
        'a link to a good copy',
        () => {
          fs.writeFileSync(join(dir, 'copy.wasm'), good, { mode: 0o600 });
          fs.rmSync(entry);
          fs.symlinkSync(join(dir, 'copy.wasm'), entry);
        },
      ],
      ['writable by its group', () => fs.chmodSync(entry, 0o620)],
    ];
    if (process.getuid?.() === 0) spoil.push(['owned by another user', () => fs.chownSync(entry, 65534, 65534)]);
    for (const [what, spoilIt] of spoil) {
      spoilIt();
      const again = await load(file, cache);
      assert.deepEqual([again.source, again.sha256], ['instrumented', made.sha256], what);
      assert.ok(!fs.lstatSync(entry).isSymbolicLink(), what);
      assert.deepEqual(fs.readFileSync(entry), good, `${what}: rebuilt`);
      const used = await load(file, cache);
      assert.deepEqual([used.source, used.reads], ['disk', 0], `${what}: the rebuilt entry is used`);
    }
  });
});
