// Quotas of the in-memory tree and of rw mounts: data, names and entries all count, renames neither
// give back what is still there nor move cost around for free.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { tempDir } from './helpers.js';

const MiB = 1 << 20;

/** Every entry under `dir`, recursively. */
function countEntries(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + 1 + (e.isDirectory() ? countEntries(join(dir, e.name)) : 0), 0);
}

/** A guest loop that stops at the first OSError and prints how far it got. */
const untilError = (body: string, limit: number) => `
i = 0
try:
    while i < ${limit}:
${body.replace(/^/gm, '        ')}
        i += 1
    print('no error after', i)
except OSError as e:
    print('stopped', e.errno, 'at', i)
`;

function stoppedAt(stdout: string): number {
  const m = /^stopped 28 at (\d+)$/m.exec(stdout);
  assert.ok(m, `expected ENOSPC (OSError 28), got: ${stdout}`);
  return Number(m[1]);
}

describe('in-memory quota', () => {
  it('renaming a file onto itself gives nothing back (host memory stays bounded)', async () => {
    const sb = await Sandbox.create({ fsQuota: { bytes: 4 * MiB, files: 10 }, limits: { timeoutMs: 60_000 } });
    const rss = process.memoryUsage().rss;
    const r = await sb.run(
      `import os\nchunk = b'z' * ${MiB}\n` +
        untilError(
          `name = '/f%d' % i
with open(name, 'wb') as f:
    f.write(chunk)
os.rename(name, name)`,
          400,
        ),
    );
    r.throwIfError();
    assert.equal(stoppedAt(r.stdout), 3); // 3 MiB and 3 names fit in 4 MiB; a 4th MiB does not
    assert.ok(process.memoryUsage().rss - rss < 150e6, 'host memory grew with the guest\'s renames');
    sb.dispose();
  });

  it('renaming over a file gives back the replaced file, and only that', async () => {
    const sb = await Sandbox.create({ fsQuota: { bytes: 2.5 * MiB } });
    const r = await sb.run(`
import os
def attempt(label, f):
    try:
        f()
        print(label, 'ok')
    except OSError as e:
        print(label, e.errno)
def write(name):
    with open(name, 'wb') as f:
        f.write(b'x' * ${MiB})
attempt('a', lambda: write('/a'))
attempt('b', lambda: write('/b'))
attempt('c', lambda: write('/c'))
os.remove('/c')
attempt('a over b', lambda: os.rename('/a', '/b'))
attempt('b onto itself', lambda: os.rename('/b', '/b'))
attempt('c again', lambda: write('/c'))
attempt('d', lambda: write('/d'))
print(sorted(os.listdir('/')))
`);
    r.throwIfError();
    assert.equal(r.stdout, "a ok\nb ok\nc 28\na over b ok\nb onto itself ok\nc again ok\nd 28\n['b', 'c', 'd']\n");
    sb.dispose();
  });

  it('counts directories with their names: mkdir in a loop ends with ENOSPC', async () => {
    const sb = await Sandbox.create({ fsQuota: { bytes: 64 * 1024 } });
    const r = await sb.run(`import os\npad = 'd' * 3000\n` + untilError(`os.mkdir('/%s%d' % (pad, i))`, 5000));
    r.throwIfError();
    assert.ok(stoppedAt(r.stdout) <= (64 * 1024) / 3000);
    sb.dispose();
  });

  it('counts empty files: creating them in a loop ends with ENOSPC, by bytes or by count', async () => {
    const bytes = await Sandbox.create({ fsQuota: { bytes: 4096 } });
    const r1 = await bytes.run(untilError(`open('/e%d' % i, 'w').close()`, 5000));
    r1.throwIfError();
    assert.ok(stoppedAt(r1.stdout) <= 4096 / 128);
    bytes.dispose();
    const count = await Sandbox.create({ fsQuota: { files: 50 } });
    const r2 = await count.run(`import os\nos.mkdir('/d')\n` + untilError(`open('/d/e%d' % i, 'w').close()`, 5000));
    r2.throwIfError();
    assert.equal(stoppedAt(r2.stdout), 49); // the directory is one of the 50 entries
    count.dispose();
  });

  it('charges a longer name on rename, and removing gives the cost back', async () => {
    const sb = await Sandbox.create({ fsQuota: { bytes: 1000 } });
    const r = await sb.run(`
import os
def attempt(label, f):
    try:
        f()
        print(label, 'ok')
    except OSError as e:
        print(label, e.errno)
open('/a', 'w').close()
attempt('long name', lambda: os.rename('/a', '/' + 'n' * 900))
attempt('short name', lambda: os.rename('/a', '/b'))
for i in range(7):
    attempt('dir', lambda: os.mkdir('/d%d' % i))
os.rmdir('/d0')
attempt('after rmdir', lambda: os.mkdir('/x'))
`);
    r.throwIfError();
    assert.equal(r.stdout, 'long name 28\nshort name ok\n' + 'dir ok\n'.repeat(6) + 'dir 28\n' + 'after rmdir ok\n');
    sb.dispose();
  });
});

describe('rw mount quota', () => {
  it('counts directories and empty files: the host directory holds a bounded number of entries', async () => {
    const dir = tempDir('quota');
    const sb = await Sandbox.create({ mounts: [{ host: dir, guest: '/data', mode: 'rw', quotaBytes: 4096 }] });
    const r = await sb.run(
      untilError(
        `import os
os.mkdir('/data/d%d' % i)
with open('/data/d%d/empty' % i, 'w') as f:
    pass`,
        20000,
      ),
    );
    r.throwIfError();
    stoppedAt(r.stdout);
    assert.ok(countEntries(dir) <= 4096 / 128, `${countEntries(dir)} entries on the host`);
    sb.dispose();
  });

  it('bounds the number of new entries by fsQuota.files, and gives back what is removed', async () => {
    const dir = tempDir('quota');
    const sb = await Sandbox.create({ mounts: [{ host: dir, guest: '/data', mode: 'rw' }], fsQuota: { files: 10 } });
    const r = await sb.run(
      untilError(`import os\nos.mkdir('/data/d%d' % i)`, 1000) +
        `
os.rmdir('/data/d0')
os.mkdir('/data/again')
try:
    os.rename('/data/again', '/data/' + 'n' * 200)
    print('renamed')
except OSError as e:
    print('rename', e.errno)
`,
    );
    r.throwIfError();
    assert.equal(stoppedAt(r.stdout), 10);
    assert.match(r.stdout, /renamed\n$/);
    assert.equal(countEntries(dir), 10);
    sb.dispose();
  });

  it('renaming a file onto itself or over another keeps the mount quota exact', async () => {
    const dir = tempDir('quota');
    const sb = await Sandbox.create({ mounts: [{ host: dir, guest: '/data', mode: 'rw', quotaBytes: 2.5 * MiB }] });
    const r = await sb.run(`
import os
def attempt(label, f):
    try:
        f()
        print(label, 'ok')
    except OSError as e:
        print(label, e.errno)
def write(name):
    with open(name, 'wb') as f:
        f.write(b'x' * ${MiB})
attempt('a', lambda: write('/data/a'))
attempt('a onto itself', lambda: os.rename('/data/a', '/data/a'))
attempt('b', lambda: write('/data/b'))
attempt('c', lambda: write('/data/c'))
os.remove('/data/c')
attempt('a over b', lambda: os.rename('/data/a', '/data/b'))
attempt('c again', lambda: write('/data/c'))
attempt('d', lambda: write('/data/d'))
`);
    r.throwIfError();
    assert.equal(r.stdout, 'a ok\na onto itself ok\nb ok\nc 28\na over b ok\nc again ok\nd 28\n');
    sb.dispose();
  });
});
