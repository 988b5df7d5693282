// A directory of a rw WASI preopen is swapped for a symlink leading outside, in a tight loop on
// another thread, while a WASI guest renames, links, removes, creates, stats, opens and lists
// through it (fixtures/wasm/swap_race.c). Nothing outside may ever be seen, moved, created, changed
// or removed. Bounded: the guest loops for 2.5 s and 200 rounds, never past 25 s; the run's deadline is 60 s.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WasmModule } from '../src/index.js';
import { fingerprint, layout, startSwapper } from './support/host-swap.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'wasm', 'swap_race.wasm');

describe('rw WASI preopen: a directory swapped for a link leading out (race)', { timeout: 120_000 }, () => {
  it('no operation through the swapped directory reaches outside the preopen', async (t) => {
    const { outside, mount, before } = layout();
    const module = await WasmModule.fromFile(FIXTURE);
    const swapper = startSwapper(mount);
    let flips = 0;
    let r;
    try {
      r = await module.run({ args: ['swap_race', '2500', '200'], mounts: [{ host: mount, guest: '/data', mode: 'rw' }], limits: { fuel: Infinity, timeoutMs: 60_000 } });
    } finally {
      flips = await swapper.stop();
    }
    t.diagnostic(`${r.stdout.trim().split('\n').pop()} flips ${flips}`);
    assert.equal(r.exitCode, 0, JSON.stringify(r.error ?? r.stderr));
    const m = /^escaped (\d+) ok (\d+) tries (\d+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const [escaped, ok, tries] = [+m[1], +m[2], +m[3]];
    assert.equal(fingerprint(outside), before, 'the directory outside the preopen changed');
    assert.equal(escaped, 0, r.stdout);
    assert.ok(ok > 0, `no operation succeeded inside, the race did not run both ways: ${r.stdout}`);
    assert.ok(tries > 100 && flips > 100, `too few attempts (${tries} tries, ${flips} flips)`);
    const names = readdirSync(mount);
    assert.ok(!names.includes('stolen.txt') && !names.includes('stolen-link'), names.join(' '));
  });
});
