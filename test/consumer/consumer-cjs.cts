// A TypeScript program compiled as CommonJS (require('pyfence')): type-checked against the
// package's .d.cts types, then run.
import assert = require('node:assert/strict');
import { Sandbox, type RunResult } from 'pyfence';

(async () => {
  const sb = await Sandbox.create();
  const r: RunResult = await sb.run('6 * 7');
  // @ts-expect-error limits are numbers
  const bad: Parameters<typeof Sandbox.create>[0] = { limits: { fuel: 'lots' } };
  void bad;
  assert.equal(r.ok && r.value, 42);
  sb.dispose();
  console.log('commonjs typescript consumer ok');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
