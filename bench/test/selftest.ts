// Self-test of the harness's output-identity checks, with fake "pyfence" sandboxes built on the
// stock loader (no dependency on src/). Run: npx tsx bench/test/selftest.ts
import assert from 'node:assert/strict';
import { benchProgram } from '../lib/cpu.js';
import { loadPrograms } from '../lib/programs.js';
import type { SandboxClass, SandboxLike, Variant } from '../lib/pyfence.js';
import { StockSession } from '../lib/stock.js';

function fakeSandbox(mangle: (stdout: string) => { ok: boolean; stdout: string }): SandboxClass {
  return {
    async create(): Promise<SandboxLike> {
      const s = await StockSession.load();
      return {
        run: (code: string) => {
          const r = s.run(code);
          const m = mangle(r.stdout);
          return { ok: m.ok && r.ok, stdout: m.stdout, stderr: '', error: m.ok ? undefined : { type: 'FakeError', message: 'boom' } };
        },
        dispose: () => {},
      };
    },
  };
}

const variant: Variant = { name: 'default', create: (S) => S.create() };
const [prog] = loadPrograms(['recursion']);
const ctx = { runs: 1, warmup: 0, stockMode: 'reuse' as const, stockOptions: {}, variants: [variant], python3: true, monty: true };

const same = await benchProgram(prog, { ...ctx, Sandbox: fakeSandbox((stdout) => ({ ok: true, stdout })) });
assert.deepEqual(same.failures, []);
assert.equal(same.result.pyfence.default.status, 'ok');
assert.equal(same.result.python3.sameOutputAsStock, true);
assert.equal(same.result.monty.sameOutputAsStock, true);

const changed = await benchProgram(prog, { ...ctx, Sandbox: fakeSandbox((stdout) => ({ ok: true, stdout: stdout.replace('6', '7') })) });
assert.equal(changed.result.pyfence.default.status, 'mismatch');
assert.match(changed.failures[0], /^MISMATCH recursion: pyfence stdout differs from stock, line \d+/);

const failed = await benchProgram(prog, { ...ctx, Sandbox: fakeSandbox(() => ({ ok: false, stdout: '' })) });
assert.match(failed.failures[0], /^MISMATCH recursion: pyfence failed: FakeError: boom/);

const broken = await StockSession.load();
const partial = broken.run('print("a", end="")\nprint("b", end="")');
assert.deepEqual(partial, { ok: true, stdout: 'ab', stderr: '', error: undefined });
const raised = broken.run('print("x")\nraise ValueError("bad")');
assert.equal(raised.ok, false);
assert.equal(raised.stdout, 'x\n');
assert.match(raised.error ?? '', /ValueError/);

console.log('bench selftest: ok');
