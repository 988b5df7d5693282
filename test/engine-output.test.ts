// The output cap, the same in every engine: a run that writes past it is stopped with kind output,
// and exactly the cap's worth of output is kept and streamed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../src/index.js';
import { ENGINES, runOnce } from './support/engines.js';

for (const engine of ENGINES) {
  describe(`output cap (${engine})`, () => {
    it('a flood is stopped at the cap with kind output, keeping exactly the cap', async () => {
      const r = await runOnce(engine, 'flood', { outputBytes: 4096 });
      assert.equal(r.ok, false);
      assert.equal(r.error?.kind, 'output', JSON.stringify(r.error));
      assert.equal(r.error?.type, 'OutputLimit');
      assert.equal(EXIT_CODES[r.error!.kind], 6);
      assert.equal(Buffer.byteLength(r.stdout), 4096);
      assert.match(r.stdout, /^(flood ?)+/);
    });

    it('a cap of 0 stops the first write', async () => {
      const r = await runOnce(engine, 'flood', { outputBytes: 0 });
      assert.equal(r.error?.kind, 'output', JSON.stringify(r.error));
      assert.equal(r.stdout, '');
    });
  });
}
