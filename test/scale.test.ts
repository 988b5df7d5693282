import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Sandbox } from '../src/index.js';

// PYFENCE_SOAK=100000 runs the documented long soak (a few minutes); CI runs a shorter one.
const SOAK = Number(process.env.PYFENCE_SOAK ?? 5000);
const MiB = 1024 * 1024;

describe('scale of the host', () => {
  it('holds 1,000 idle sessions in well under 1 GiB of RSS', async () => {
    const before = process.memoryUsage().rss;
    const held: Sandbox[] = [];
    for (let i = 0; i < 1000; i++) {
      const sb = await Sandbox.create();
      (await sb.run(`session_id = ${i}`)).throwIfError();
      held.push(sb);
    }
    const grown = process.memoryUsage().rss - before;
    // Every session is still its own: spot-check a few.
    for (const i of [0, 499, 999]) assert.equal((await held[i].run('print(session_id)')).stdout, `${i}\n`);
    for (const sb of held) sb.dispose();
    assert.ok(grown < 768 * MiB, `1,000 idle sessions grew RSS by ${(grown / MiB).toFixed(0)} MiB`);
  });

  it(`keeps RSS flat over ${SOAK} create/run/dispose cycles, each sandbox fresh`, async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cycle = async (i: number) => {
      const sb = await Sandbox.create();
      const r = await sb.run(`print(${i} * 2, "leak" in globals())\nleak = bytearray(100000)`);
      assert.equal(r.stdout, `${i * 2} False\n`);
      sb.dispose();
    };
    // Reach a steady state first (V8 compiles, pools fill), then measure the growth of the rest.
    for (let i = 0; i < 500; i++) await cycle(i);
    gc();
    const start = process.memoryUsage().rss;
    let peak = start;
    for (let i = 0; i < SOAK; i++) {
      await cycle(i);
      if (i % 500 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    }
    gc();
    const grown = process.memoryUsage().rss - start;
    // A leak of one interpreter per cycle would be >1 MiB each: gigabytes here.
    assert.ok(grown < 128 * MiB, `RSS grew ${(grown / MiB).toFixed(0)} MiB over ${SOAK} cycles (peak +${((peak - start) / MiB).toFixed(0)} MiB)`);
  });
});
