// Host-side exceptions during a guest call end as a `fault` result with a fresh interpreter, never as
// a rejection of run(); a program text that does not fit under the memory cap is a `memory` result.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';

const WINDOW = readFileSync(new URL('./fixtures/stale-memoryview-window.py', import.meta.url), 'utf8');

describe('host exceptions during a run', () => {
  for (const isolation of ['inline', 'worker'] as const) {
    it(`a syscall given a length past the end of memory is a fault, not a rejection (${isolation})`, async () => {
      const sb = await Sandbox.create({ isolation });
      try {
        await sb.run('kept = 1');
        for (const tail of ["f = open('/x', 'wb')\nf.write(mem)\n", 'import sys\nsys.stdout.write(mem)\n']) {
          const r = await sb.run(`print("before")\n${WINDOW}\n${tail}`);
          assert.equal(r.error?.kind, 'fault', JSON.stringify(r.error));
          assert.equal(r.error?.type, 'SandboxFault');
          assert.match(r.error!.message, /RangeError/);
          assert.equal(r.sandboxReplaced, true);
          assert.equal(r.stdout, 'before\n');
          const next = await sb.run('print("next", "kept" in globals())');
          assert.equal(next.stdout, 'next False\n');
          assert.equal(next.ok, true);
        }
      } finally {
        sb.dispose();
      }
    });
  }

  it('an output callback that throws ends the run as a fault', async () => {
    const sb = await Sandbox.create();
    try {
      const r = await sb.run('print("x")', {
        onStdout: () => {
          throw new Error('embedder bug');
        },
      });
      assert.equal(r.error?.kind, 'fault');
      assert.match(r.error!.message, /embedder bug/);
      assert.equal((await sb.run('print(1)')).stdout, '1\n');
    } finally {
      sb.dispose();
    }
  });
});

describe('program text and the memory cap', () => {
  it('a program larger than the cap allows is a memory result', async () => {
    const sb = await Sandbox.create();
    try {
      // Grow memory under the default cap, then run under a tighter one: the text needs new memory.
      assert.equal((await sb.run('x = bytearray(30_000_000)\ndel x')).ok, true);
      const r = await sb.run('#' + 'x'.repeat(400_000), { limits: { memoryBytes: 16 << 20 } });
      assert.equal(r.error?.kind, 'memory', JSON.stringify(r.error));
      assert.match(r.error!.message, /program text/);
      assert.equal((await sb.run('print(2)')).stdout, '2\n');
    } finally {
      sb.dispose();
    }
  });
});
