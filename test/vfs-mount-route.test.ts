// How mounts reach the host: every descriptor a walk opens is closed again, whatever the outcome; the
// mounted directory is identified once and a replacement is refused; and where the descriptor route
// (/proc/self/fd) does not exist, mounting is refused instead of running with races.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { PROC_FD_ROUTE, routeWorks } from '../src/vfs/fd-route.js';
import { VirtualFS } from '../src/vfs/vfs.js';
import { descriptorsUnder, tempDir } from './helpers.js';


/** mount/{a.txt, sub/b.txt, in -> sub, out -> ../outside, loop1 <-> loop2, fifo}, outside/secret. */
function layout() {
  const root = tempDir('route');
  const mount = join(root, 'mount');
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret'), 'OUTSIDE');
  mkdirSync(join(mount, 'sub'), { recursive: true });
  writeFileSync(join(mount, 'a.txt'), 'a');
  writeFileSync(join(mount, 'sub', 'b.txt'), 'b');
  symlinkSync('sub', join(mount, 'in'));
  symlinkSync('../outside', join(mount, 'out'));
  symlinkSync('loop2', join(mount, 'loop1'));
  symlinkSync('loop1', join(mount, 'loop2'));
  execFileSync('mkfifo', [join(mount, 'fifo')]);
  return { root, mount };
}

describe('mount descriptors and platform', () => {
  it('closes every descriptor it opens, on success and on every kind of error', async () => {
    const { mount } = layout();
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data', mode: 'rw' }] });
    const before = descriptorsUnder(mount);
    const r = await sb.run(`
import os
results = []
def attempt(f):
    try:
        f()
        results.append('ok')
    except OSError as e:
        results.append(e.errno)
def read(p):
    with open(p) as f:
        return f.read()
for i in range(20):
    for p in ['/data/a.txt', '/data/in/b.txt', '/data/out/secret', '/data/loop1', '/data/loop1/x', '/data/fifo',
              '/data/missing', '/data/a.txt/x', '/data/sub/../in/b.txt']:
        attempt(lambda: read(p))
        attempt(lambda: os.stat(p))
    for p in ['/data', '/data/in', '/data/out', '/data/a.txt', '/data/missing', '/data/loop2']:
        attempt(lambda: os.listdir(p))
    attempt(lambda: os.mkdir('/data/in/new'))
    attempt(lambda: os.mkdir('/data/in/new'))
    attempt(lambda: os.rename('/data/in/new', '/data/new2'))
    attempt(lambda: os.rename('/data/new2', '/data/out/new3'))
    attempt(lambda: os.rmdir('/data/new2'))
    attempt(lambda: os.rmdir('/data/a.txt'))
    attempt(lambda: open('/data/in/c.txt', 'x').write('c'))
    attempt(lambda: open('/data/in/c.txt', 'x'))
    attempt(lambda: os.remove('/data/in/c.txt'))
    attempt(lambda: os.remove('/data/sub'))
    attempt(lambda: os.remove('/data/out/secret'))
held = [open('/data/a.txt') for i in range(5)]  # left open: closed with the sandbox
try:
    os.mkdir('/data')
except OSError as e:
    print('mkdir root', e.errno)
print(results.count('ok'), len(results))
`);
    r.throwIfError();
    assert.match(r.stdout, /^mkdir root 17\n/); // EEXIST, as for any existing directory
    const [ok, total] = r.stdout.trim().split('\n')[1].split(' ').map(Number);
    assert.ok(ok > 0 && ok < total, r.stdout); // both outcomes were exercised
    assert.equal(descriptorsUnder(mount), before + 5);
    const listed = await sb.fs.list('/data');
    assert.ok(listed.some((e) => e.name === 'in') && !listed.some((e) => e.name === 'out' || e.name === 'fifo'));
    await sb.fs.writeFile('/data/host.txt', 'h');
    await assert.rejects(sb.fs.readFile('/data/out/secret'));
    sb.dispose();
    assert.equal(descriptorsUnder(mount), before);
  });

  it('refuses a mounted directory replaced on disk after mounting', async () => {
    const { root, mount } = layout();
    const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data' }] });
    renameSync(mount, join(root, 'moved'));
    mkdirSync(mount);
    writeFileSync(join(mount, 'a.txt'), 'impostor');
    const r = await sb.run(`
import errno
try:
    print(open('/data/a.txt').read())
except OSError as e:
    print(errno.errorcode[e.errno])
`);
    r.throwIfError();
    assert.equal(r.stdout, 'EACCES\n');
    sb.dispose();
  });

  it('refuses to mount, ro or rw, where the descriptor route does not exist', () => {
    const { mount } = layout();
    assert.equal(routeWorks(PROC_FD_ROUTE, mount), true);
    const missing = { fdDir: join(mount, 'no-such-fd-dir') };
    assert.equal(routeWorks(missing, mount), false);
    for (const mode of ['ro', 'rw'] as const) {
      assert.throws(
        () => new VirtualFS({ mounts: [{ host: mount, guest: '/data', mode }] }, missing),
        /cannot mount .*: mounts need .*no-such-fd-dir \(Linux with \/proc\) to resolve paths without races/,
      );
    }
    // The in-memory tree alone needs no route.
    assert.doesNotThrow(() => new VirtualFS({ files: { '/a': 'x' } }, missing));
  });
});

describe('path depth', () => {
  it('bounds a path by its normalised length, working directory included, so walks stay short', async () => {
    const dir = tempDir('depth');
    const sb = await Sandbox.create({ mounts: [{ host: dir, guest: '/data', mode: 'rw' }] });
    const r = await sb.run(`
import os
os.chdir('/data')
depth = 0
try:
    while depth < 5000:
        os.mkdir('d' * 50)
        os.chdir('d' * 50)
        depth += 1
except OSError as e:
    print('stopped', e.errno, depth)
`);
    r.throwIfError();
    const m = /^stopped 36 (\d+)$/.exec(r.stdout.trim());
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) < 4096 / 51, r.stdout);
    sb.dispose();
  });
});
