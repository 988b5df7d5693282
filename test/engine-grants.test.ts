// Grants, the same in every engine: a guest sees the environment, arguments and host functions it
// was given and nothing else; deterministic mode makes two runs print the same.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { ENGINES, fixture, type EngineName } from './support/engines.js';

/** Env and argv as the guest prints them: `argv[i]=…` and `env K=V` lines. */
const PRINT_ENV = `import os, sys
for i, a in enumerate(sys.argv):
    print(f"argv[{i}]={a}")
for k in sorted(os.environ):
    print(f"env {k}={os.environ[k]}")
import random, time
print(random.getrandbits(30), int(time.time()))`;

async function printEnv(engine: EngineName, args: string[], env: Record<string, string>): Promise<string> {
  const options = { env, seed: 7, clock: { fixedMs: 1_700_000_000_000 } };
  if (engine === 'wasi') {
    const r = await (await fixture('print_env.wasm')).run({ ...options, args });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    return r.stdout;
  }
  const sb = await Sandbox.create({ ...options, engine, argv: args });
  try {
    const r = await sb.run(PRINT_ENV);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    return r.stdout;
  } finally {
    sb.dispose();
  }
}

for (const engine of ENGINES) {
  describe(`grants (${engine})`, () => {
    it('sees its env and argv and no other variable; deterministic mode repeats itself', { timeout: 120_000 }, async () => {
      const out = await printEnv(engine, ['prog', 'a b'], { GREETING: 'hi' });
      assert.match(out, /^argv\[1\]=a b$/m);
      assert.match(out, /^env GREETING=hi$/m);
      assert.deepEqual(out.match(/^env .*$/gm), ['env GREETING=hi']);
      assert.equal(await printEnv(engine, ['prog', 'a b'], { GREETING: 'hi' }), out);
    });

    it('calls a granted host function, and only that one', { timeout: 120_000 }, async () => {
      const calls: unknown[] = [];
      if (engine === 'wasi') {
        const m = await fixture('call_host.wat');
        const r = await m.invokeWith({ imports: { 'env.double': (x) => (calls.push(x), (x as bigint) * 2n) } }, 'quadruple', 5n);
        assert.deepEqual(r.result, [20n]);
        assert.deepEqual(calls, [5n, 10n]);
        const refused = await (await fixture('ungranted_import.wat')).run({ imports: { 'env.read_secret': () => 1 } });
        assert.equal(refused.error?.kind, 'denied');
        return;
      }
      const sb = await Sandbox.create({ engine, modules: { host: { double: (x: unknown) => (calls.push(x), (x as number) * 2) } } });
      try {
        const r = await sb.run('import host\nprint(host.double(host.double(5)))');
        assert.equal(r.stdout, '20\n', JSON.stringify(r.error));
        assert.deepEqual(calls, [5, 10]);
        const missing = await sb.run('import host\nhost.launch()');
        assert.equal(missing.ok, false);
        assert.equal(missing.error?.type, 'AttributeError');
      } finally {
        sb.dispose();
      }
    });
  });
}
