// A host directory as a WASI preopen, below the WASI calls: what each operation charges to and gives
// back to the quota (entries, names, data, links), that the preopened directory is identified once
// and a replacement refused, that no descriptor is left open, and that without the descriptor route
// (/proc/self/fd) the preopen is refused. Real directories, files, links and descriptors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HostBackend } from '../src/vfs/host-backend.js';
import { WasiErrno, wasiErrnoOf } from '../src/vfs/errno.js';
import { entryBytes, Quota } from '../src/vfs/quota.js';
import { descriptorsUnder, tempDir } from './helpers.js';


function fresh(): string {
  return tempDir('tree');
}

function fails(errno: number | number[], call: () => unknown): void {
  const wanted = ([] as number[]).concat(errno);
  assert.throws(call, (e) => wanted.includes(wasiErrnoOf(e) ?? -1));
}

describe('WASI host tree', () => {
  it('charges every entry its name (and data), and gives it all back as they go', () => {
    const dir = fresh();
    const quota = new Quota(10_000, 100);
    const tree = new HostBackend({ host: dir, mode: 'rw', quota });
    const descriptors = descriptorsUnder(dir);

    tree.mkdir(['d']);
    assert.deepEqual([quota.bytes, quota.entries], [entryBytes('d'), 1]);
    const f = tree.openFile(['d', 'f'], { read: false, write: true, create: true, exclusive: false, truncate: false });
    f.write(new Uint8Array(10), 0);
    f.truncate(4);
    f.close();
    assert.deepEqual([quota.bytes, quota.entries], [entryBytes('d') + entryBytes('f') + 4, 2]);

    tree.link(['d', 'f'], ['hard']);
    tree.symlink('d/f', ['soft']);
    assert.equal(quota.entries, 4);
    assert.equal(quota.bytes, entryBytes('d') + entryBytes('f') + 4 + entryBytes('hard') + entryBytes('soft') + 3);

    tree.unlink(['d', 'f']); // the data stays with the other link
    assert.equal(quota.bytes, entryBytes('d') + 4 + entryBytes('hard') + entryBytes('soft') + 3);
    tree.rename(['hard'], ['soft']); // replaces the symlink: its name and target go
    assert.deepEqual([quota.bytes, quota.entries], [entryBytes('d') + 4 + entryBytes('soft'), 2]);
    tree.unlink(['soft']);
    tree.rmdir(['d']);
    assert.deepEqual([quota.bytes, quota.entries], [0, 0]);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal(descriptorsUnder(dir), descriptors);
  });

  it('refuses an entry past the byte or the entry quota, taking nothing and making nothing', () => {
    const dir = fresh();
    const quota = new Quota(10_000, 2);
    const tree = new HostBackend({ host: dir, mode: 'rw', quota });
    tree.mkdir(['a']);
    tree.openFile(['b'], { read: false, write: true, create: true, exclusive: true, truncate: false }).close();
    fails(WasiErrno.ENOSPC, () => tree.mkdir(['c']));
    fails(WasiErrno.ENOSPC, () => tree.openFile(['c'], { read: false, write: true, create: true, exclusive: false, truncate: false }));
    fails(WasiErrno.ENOSPC, () => tree.symlink('a', ['c']));
    fails(WasiErrno.ENOSPC, () => tree.link(['b'], ['c']));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['a', 'b']);
    assert.deepEqual([quota.bytes, quota.entries], [entryBytes('a') + entryBytes('b'), 2]);

    const small = new HostBackend({ host: fresh(), mode: 'rw', quota: new Quota(entryBytes('x') + 1) });
    fails(WasiErrno.ENOSPC, () => small.mkdir(['longer-name']));
    small.mkdir(['x']);
  });

  it('a failed creation gives back what it took', () => {
    const dir = fresh();
    fs.writeFileSync(join(dir, 'there'), 'x');
    const quota = new Quota(10_000);
    const tree = new HostBackend({ host: dir, mode: 'rw', quota });
    fails(WasiErrno.EEXIST, () => tree.mkdir(['there']));
    fails(WasiErrno.EEXIST, () => tree.symlink('t', ['there']));
    fails(WasiErrno.ENOENT, () => tree.mkdir(['missing', 'x']));
    assert.deepEqual([quota.bytes, quota.entries], [0, 0]);
  });

  it('refuses the preopened directory once replaced, by another directory or by a link to one', () => {
    const root = fresh();
    const dir = join(root, 'p');
    fs.mkdirSync(dir);
    fs.writeFileSync(join(dir, 'a'), 'a');
    fs.mkdirSync(join(root, 'outside'));
    fs.writeFileSync(join(root, 'outside', 'a'), 'OUTSIDE');
    const tree = new HostBackend({ host: dir, mode: 'rw', quota: new Quota(10_000) });
    assert.equal(tree.lstat(['a']).size, 1n);
    fs.renameSync(dir, join(root, 'old'));
    fs.symlinkSync(join(root, 'outside'), dir);
    // The root is opened with O_NOFOLLOW: a link in its place is refused by the kernel.
    fails([WasiErrno.ENOTDIR, WasiErrno.ELOOP], () => tree.lstat(['a']));
    fails([WasiErrno.ENOTDIR, WasiErrno.ELOOP], () => tree.mkdir(['made']));
    fs.unlinkSync(dir);
    fs.mkdirSync(dir);
    fails(WasiErrno.EACCES, () => tree.list([]));
    assert.deepEqual(fs.readdirSync(join(root, 'outside')), ['a']);
  });

  it('is refused where the descriptor route does not exist', () => {
    assert.throws(() => new HostBackend({ host: fresh(), mode: 'ro', quota: new Quota(0) }, { fdDir: '/no-such-fd-dir' }), /cannot mount .*\/no-such-fd-dir \(Linux with \/proc\)/);
  });
});
