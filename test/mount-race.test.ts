// A directory of a rw mount is swapped for a symlink leading outside, in a tight loop, while the
// guest renames, removes, creates, stats and lists through it. Nothing outside the mount may ever be
// read, moved, created, changed or removed. Each case runs for a bounded time with many attempts.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { Pool, Sandbox } from '../src/index.js';
import { DEEP, fingerprint, layout, startSwapper } from './support/host-swap.js';

/**
 * Runs `body` in a guest loop for 2.5 s while the swapper runs. `body` sets `escaped` when it sees
 * something that can only come from outside, and `ok` when an operation succeeded inside.
 */
async function race(body: string, fsQuota?: { files: number }): Promise<{ escaped: number; ok: number; tries: number; flips: number; stdout: string; outside: string; before: string; mount: string }> {
  const { outside, mount, before } = layout();
  const sb = await Sandbox.create({ mounts: [{ host: mount, guest: '/data', mode: 'rw' }], fsQuota, limits: { timeoutMs: 30_000 } });
  const swapper = startSwapper(mount);
  let stdout = '';
  let flips = 0;
  try {
    const r = await sb.run(`
import os, time
D = '/data/sub/${DEEP}/'
escaped = 0
ok = 0
tries = 0
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 2500:
    tries += 1
${body.replace(/^/gm, '    ')}
print('escaped', escaped, 'ok', ok, 'tries', tries)
`);
    stdout = r.stdout;
    r.throwIfError();
  } finally {
    flips = await swapper.stop();
    sb.dispose();
  }
  const m = /escaped (\d+) ok (\d+) tries (\d+)/.exec(stdout);
  assert.ok(m, stdout);
  return { escaped: +m[1], ok: +m[2], tries: +m[3], flips, stdout, outside: fingerprint(outside), before, mount };
}

function assertContained(t: TestContext, r: Awaited<ReturnType<typeof race>>, label: string): void {
  t.diagnostic(`${r.stdout.trim()} flips ${r.flips}`);
  assert.equal(r.outside, r.before, `${label}: the directory outside the mount changed`);
  assert.equal(r.escaped, 0, `${label}: the guest saw outside data: ${r.stdout}`);
  assert.ok(r.ok > 0, `${label}: no operation succeeded inside, the race did not run both ways: ${r.stdout}`);
  assert.ok(r.tries > 100 && r.flips > 100, `${label}: too few attempts (${r.tries} tries, ${r.flips} flips)`);
}

describe('rw mount: a directory swapped for a link leading out (race)', { timeout: 120_000 }, () => {
  it('rename never moves a file out of the outside, or into it', async (t) => {
    const r = await race(
      `
try:
    os.rename(D + 'secret.txt', '/data/stolen.txt')
    escaped += 1
except OSError:
    pass
try:
    open('/data/p', 'w').close()
    os.rename('/data/p', D + 'planted%d' % tries)  # never removed: a plant outside stays there
    ok += 1
except OSError:
    pass`,
      { files: 1_000_000 },
    );
    assertContained(t, r, 'rename');
    assert.ok(!readdirSync(r.mount).includes('stolen.txt'));
  });

  it('unlink and create never remove or truncate a file outside', async (t) => {
    const r = await race(`
try:
    os.remove(D + 'victim')
    escaped += 1
except OSError:
    pass
try:
    open(D + 'mine', 'w').close()
    os.remove(D + 'mine')
    ok += 1
except OSError:
    pass`);
    assertContained(t, r, 'unlink');
  });

  it('mkdir and rmdir never create or remove a directory outside', async (t) => {
    const r = await race(`
try:
    os.rmdir(D + 'keep')
    escaped += 1
except OSError:
    pass
try:
    os.mkdir(D + 'newdir')
    ok += 1
except OSError:
    pass
try:
    os.rmdir(D + 'newdir')
except OSError:
    pass`);
    assertContained(t, r, 'mkdir');
  });

  it('stat never describes a file outside', async (t) => {
    const r = await race(`
try:
    os.stat(D + 'secret.txt')
    escaped += 1
except OSError:
    pass
try:
    if os.stat(D + 'inner.txt')[6] == 5:
        ok += 1
except OSError:
    pass`);
    assertContained(t, r, 'stat');
  });

  it('listing never shows the outside directory', async (t) => {
    const r = await race(`
try:
    names = os.listdir(D)
    if 'secret.txt' in names or 'victim' in names:
        escaped += 1
    elif 'inner.txt' in names:
        ok += 1
except OSError:
    pass`);
    assertContained(t, r, 'listing');
  });

  it('holds when the swapper is a second sandbox of the same worker pool', async (t) => {
    const { outside, mount, before } = layout();
    const pool = new Pool({ size: 2, isolation: 'worker', mounts: [{ host: mount, guest: '/data', mode: 'rw' }], limits: { timeoutMs: 30_000 } });
    try {
      await pool.ready();
      const loop = (body: string) => `
import os, time
D = '/data/sub/${DEEP}/'
n = 0
hits = 0
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 2500:
    n += 1
${body.replace(/^/gm, '    ')}
print(n, hits)
`;
      const flipper = pool.run(
        loop(`
try:
    os.rename('/data/sub', '/data/tmp')
    os.rename('/data/link', '/data/sub')
    os.rename('/data/sub', '/data/link')
    os.rename('/data/tmp', '/data/sub')
except OSError:
    pass`),
      );
      const thief = pool.run(
        loop(`
try:
    os.rename(D + 'secret.txt', '/data/stolen.txt')
    hits += 1
except OSError:
    pass
try:
    open('/data/p', 'w').close()
    os.rename('/data/p', D + 'planted')
except OSError:
    pass`),
      );
      const [a, b] = await Promise.all([flipper, thief]);
      a.throwIfError();
      b.throwIfError();
      const [flips] = a.stdout.split(' ').map(Number);
      const [tries, hits] = b.stdout.split(' ').map(Number);
      t.diagnostic(`flips ${flips} tries ${tries} hits ${hits}`);
      assert.ok(flips > 100 && tries > 100, `too few attempts: ${a.stdout} ${b.stdout}`);
      assert.equal(hits, 0);
      assert.equal(fingerprint(outside), before);
      assert.ok(!readdirSync(mount).includes('stolen.txt'));
    } finally {
      await pool.close();
    }
  });
});
