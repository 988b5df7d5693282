import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Sandbox, SandboxFsError, UsageError } from '../src/index.js';
import { cli, tempDir } from './helpers.js';

/**
 * A fresh layout:  root/outside/secret.txt ("OUTSIDE"), root/etc/passwd,
 * root/mount/{a.txt, sub/b.txt, link-in -> a.txt, link-out -> ../outside/secret.txt,
 * abs-out -> root/outside/secret.txt, dir-out -> ../outside, dir-in -> sub}
 */
function layout() {
  const root = tempDir('vfs');
  const mount = join(root, 'mount');
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret.txt'), 'OUTSIDE');
  mkdirSync(join(mount, 'sub'), { recursive: true });
  writeFileSync(join(mount, 'a.txt'), 'inside a');
  writeFileSync(join(mount, 'sub', 'b.txt'), 'inside b');
  symlinkSync('a.txt', join(mount, 'link-in'));
  symlinkSync('../outside/secret.txt', join(mount, 'link-out'));
  symlinkSync(join(root, 'outside', 'secret.txt'), join(mount, 'abs-out'));
  symlinkSync('../outside', join(mount, 'dir-out'));
  symlinkSync('sub', join(mount, 'dir-in'));
  return { root, mount };
}

/** Reads each path in the guest, printing its content or the errno name/number. */
const READ_ALL = (paths: string[]) => `
import errno
def show(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
for p in ${JSON.stringify(paths)}:
    print(p, "=", show(p))
`;

describe('virtual filesystem', () => {
  it('confines reads to the mount: links, .. chains, absolute paths', async () => {
    const { mount } = layout();
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data' }] });
    const paths = [
      '/data/a.txt', '/data/link-in', '/data/dir-in/b.txt', '/data/sub/../a.txt',
      '/data/link-out', '/data/abs-out', '/data/dir-out/secret.txt', '/data/../outside/secret.txt',
      '/data/sub/../../outside/secret.txt', '/data/../../../../etc/passwd', '/etc/passwd', '/proc/self/environ',
      'data/../../outside/secret.txt',
    ];
    const r = await sb.run(READ_ALL(paths));
    r.throwIfError();
    assert.doesNotMatch(r.stdout, /OUTSIDE|root:/);
    const got = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' = ')));
    assert.equal(got['/data/a.txt'], 'inside a');
    assert.equal(got['/data/link-in'], 'inside a');
    assert.equal(got['/data/dir-in/b.txt'], 'inside b');
    assert.equal(got['/data/sub/../a.txt'], 'inside a');
    for (const p of ['/data/link-out', '/data/abs-out', '/data/dir-out/secret.txt']) assert.equal(got[p], 'EACCES', p);
    for (const p of ['/etc/passwd', '/proc/self/environ', '/data/../outside/secret.txt']) assert.equal(got[p], 'ENOENT', p);
    sb.dispose();
  });

  it('shows only what was granted, and no links leading out', async () => {
    const { mount } = layout();
    execFileSync('mkfifo', [join(mount, 'fifo')]);
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/mnt/data' }], files: { '/in.txt': 'x' } });
    const r = await sb.run(`
import os, errno
print(sorted(os.listdir('/')), os.listdir('/mnt'), sorted(os.listdir('/mnt/data')))
try:
    open('/mnt/data/fifo')
except OSError as e:
    print('fifo', errno.errorcode[e.errno])
`);
    r.throwIfError();
    assert.equal(r.stdout, "['in.txt', 'mnt'] ['data'] ['a.txt', 'dir-in', 'link-in', 'sub']\nfifo EACCES\n");
    sb.dispose();
  });

  it('refuses every write to a read-only mount', async () => {
    const { mount } = layout();
    const before = JSON.stringify(readdirSync(mount).sort());
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data', mode: 'ro' }] });
    const r = await sb.run(`
import os, errno
def attempt(label, f):
    try:
        f()
        print(label, "DONE")
    except OSError as e:
        print(label, errno.errorcode.get(e.errno, e.errno))
attempt("create", lambda: open('/data/new.txt', 'w'))
attempt("overwrite", lambda: open('/data/a.txt', 'w'))
attempt("append", lambda: open('/data/a.txt', 'a'))
attempt("r+", lambda: open('/data/a.txt', 'r+'))
attempt("mkdir", lambda: os.mkdir('/data/d'))
attempt("remove", lambda: os.remove('/data/a.txt'))
attempt("rmdir", lambda: os.rmdir('/data/sub'))
attempt("rename", lambda: os.rename('/data/a.txt', '/data/z.txt'))
`);
    r.throwIfError();
    for (const line of r.stdout.trim().split('\n')) assert.match(line, / EACCES$/, line);
    assert.equal(JSON.stringify(readdirSync(mount).sort()), before);
    assert.equal(readFileSync(join(mount, 'a.txt'), 'utf8'), 'inside a');
    sb.dispose();
  });

  it('writes to a rw mount within its quota, and never past it', async () => {
    const { mount } = layout();
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/out', mode: 'rw', quotaBytes: 10_000 }] });
    const r = await sb.run(`
import os
os.mkdir('/out/results')
with open('/out/results/r.txt', 'w') as f:
    f.write('hello')
written = 0
try:
    with open('/out/big.bin', 'wb') as f:
        while True:
            f.write(b'x' * 1000)
            written += 1000
except OSError as e:
    print('stopped', e.errno, written)
os.remove('/out/big.bin')
with open('/out/again.bin', 'wb') as f:
    f.write(b'y' * 9000)
print(sorted(os.listdir('/out')))
`);
    r.throwIfError();
    assert.match(r.stdout, /^stopped 28 9000\n/);
    assert.equal(readFileSync(join(mount, 'results', 'r.txt'), 'utf8'), 'hello');
    assert.equal(statSync(join(mount, 'again.bin')).size, 9000);
    sb.dispose();
  });

  it('keeps in-memory files within their byte and count quotas', async () => {
    const sb = await Sandbox.create({ fsQuota: { bytes: 4096, files: 3 }, files: { '/a': 'x' } });
    const r = await sb.run(`
def attempt(label, f):
    try:
        f()
        print(label, "ok")
    except OSError as e:
        print(label, e.errno)
attempt("3 KiB", lambda: open('/b', 'wb').write(b'1' * 3072))
attempt("2 KiB more", lambda: open('/c', 'wb').write(b'2' * 2048))
attempt("4th file", lambda: open('/d', 'w'))
`);
    r.throwIfError();
    assert.equal(r.stdout, '3 KiB ok\n2 KiB more 28\n4th file 28\n');
    sb.dispose();
  });

  it('round-trips in-memory files with the host, across runs and snapshots', async () => {
    const sb = await Sandbox.create({ files: { '/input/data.csv': 'a,b\n1,2\n', '/bin/raw': new Uint8Array([0, 255, 10]) } });
    const r = await sb.run(`
import os
rows = [l.split(',') for l in open('/input/data.csv').read().split()]
raw = open('/bin/raw', 'rb').read()
os.mkdir('/output')
with open('/output/result.txt', 'w') as f:
    f.write(str(rows) + ' ' + str(list(raw)))
f = open('/output/result.txt', 'r+')
f.seek(2)
print(f.read(3), f.tell())
f.seek(0, 2)
f.write('!')
f.close()
with open('/output/result.txt', 'a') as f:
    f.write('?')
`);
    r.throwIfError();
    assert.equal(r.stdout, "'a' 5\n");
    const text = new TextDecoder().decode(await sb.fs.readFile('/output/result.txt'));
    assert.equal(text, "[['a', 'b'], ['1', '2']] [0, 255, 10]!?");
    assert.deepEqual(await sb.fs.list('/'), [
      { name: 'bin', kind: 'dir' },
      { name: 'input', kind: 'dir' },
      { name: 'output', kind: 'dir' },
    ]);
    await sb.fs.writeFile('/input/more.txt', 'from host');
    assert.equal((await sb.run('print(open("/input/more.txt").read())')).stdout, 'from host\n');
    await assert.rejects(sb.fs.readFile('/missing'), (e: unknown) => e instanceof SandboxFsError && e.code === 'ENOENT');
    // Files travel with a snapshot; a worker sandbox has the same API.
    const moved = await Sandbox.restore(await sb.snapshot(), { isolation: 'worker' });
    assert.equal(new TextDecoder().decode(await moved.fs.readFile('/input/more.txt')), 'from host');
    assert.equal((await moved.run('print(open("/output/result.txt").read()[-2:])')).stdout, '!?\n');
    moved.dispose();
    sb.dispose();
  });

  it('never reads outside while a directory is swapped for a symlink (rename race)', async () => {
    const { root, mount } = layout();
    mkdirSync(join(mount, 'swap'));
    writeFileSync(join(mount, 'swap', 'secret.txt'), 'inside');
    // Another thread flips mount/swap between the real directory and a link to ../outside.
    const flipper = new Worker(
      `const fs = require('node:fs'); const { workerData: d } = require('node:worker_threads');
       const end = Date.now() + 8000;
       while (Date.now() < end) {
         try { fs.renameSync(d.swap, d.parked); fs.symlinkSync(d.outside, d.swap); } catch {}
         try { fs.unlinkSync(d.swap); fs.renameSync(d.parked, d.swap); } catch {}
       }`,
      { eval: true, workerData: { swap: join(mount, 'swap'), parked: join(mount, 'parked'), outside: join(root, 'outside') } },
    );
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data' }] });
    const r = await sb.run(`
seen = {}
for i in range(3000):
    try:
        with open('/data/swap/secret.txt') as f:
            v = f.read()
    except OSError as e:
        v = 'error'
    seen[v] = seen.get(v, 0) + 1
print(sorted(seen.items()))
`);
    await flipper.terminate();
    r.throwIfError();
    assert.doesNotMatch(r.stdout, /OUTSIDE/);
    assert.match(r.stdout, /'inside'/); // the race really ran both ways
    sb.dispose();
  });

  it('rejects bad filesystem options and flags', async () => {
    await assert.rejects(Sandbox.create({ mounts: [{ host: '/nonexistent-dir', guest: '/x' }] }), UsageError);
    await assert.rejects(Sandbox.create({ mounts: [{ host: tmpdir(), guest: 'relative' }] }), UsageError);
    await assert.rejects(Sandbox.create({ mounts: [{ host: tmpdir(), guest: '/' }] }), UsageError);
    await assert.rejects(Sandbox.create({ mounts: [{ host: tmpdir(), guest: '/x', mode: 'rwx' as never }] }), UsageError);
    await assert.rejects(Sandbox.create({ files: { 'relative.txt': 'x' } }), UsageError);
    await assert.rejects(Sandbox.create({ files: { '/a': 1 as never } }), UsageError);
    await assert.rejects(Sandbox.create({ fsQuota: { bytes: -1 } }), UsageError);
    assert.equal(cli(['run', '--mount', 'no-guest-path', '-c', '1']).status, 2);
    assert.equal(cli(['run', '--mount', '/nonexistent-dir:/x', '-c', '1']).status, 2);
    assert.equal(cli(['run', '--write-quota', 'lots', '-c', '1']).status, 2);
  });

  it('mounts from the CLI, read-only by default and rw with a quota', () => {
    const { mount } = layout();
    const ro = cli(['run', '--mount', `${mount}:/data`, '-c', 'print(open("/data/a.txt").read())\nopen("/data/x", "w")']);
    assert.equal(ro.status, 1);
    assert.equal(ro.stdout, 'inside a\n');
    assert.match(ro.stderr, /OSError: \[Errno 13\] EACCES/);
    const rw = cli(['run', '--mount', `${mount}:/data:rw`, '--write-quota', '1KiB', '-c', 'open("/data/x", "wb").write(b"1" * 2000)']);
    assert.equal(rw.status, 1);
    assert.match(rw.stderr, /OSError: 28/);
    assert.ok(statSync(join(mount, 'x')).size <= 1024);
  });
});
