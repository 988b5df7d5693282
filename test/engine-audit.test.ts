// The audit, the same in every engine: reaching for a capability nobody granted ends the run as
// denied, and the refusal is in the result's audit, decided on the host side.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../src/index.js';
import { ENGINES, runOnce } from './support/engines.js';

for (const engine of ENGINES) {
  describe(`audit (${engine})`, () => {
    it('an ungranted import is denied (kind denied) and audited as denied-import', async () => {
      const r = await runOnce(engine, 'ungranted');
      assert.equal(r.ok, false);
      assert.equal(r.error?.kind, 'denied', JSON.stringify(r.error));
      assert.equal(EXIT_CODES[r.error!.kind], 7);
      const denied = r.audit.events.filter((e) => e.kind === 'denied-import').map((e) => e.detail);
      assert.ok(denied.length > 0, JSON.stringify(r.audit));
      assert.equal(r.audit.dropped, 0);
    });

    it('a clean run has an empty audit', async () => {
      const r = await runOnce(engine, 'loop', { fuel: 1_000_000 });
      assert.deepEqual(r.audit, { events: [], dropped: 0 });
    });
  });
}
