// A TypeScript program that uses pyfence as an installed package would: type-checked by tsc, then run.
import assert from 'node:assert/strict';
import { Pool, Sandbox, Tuple, type HostModules, type HostValue, type ImportPolicy, type NetGrant, type RunResult } from 'pyfence';

const modules: HostModules = { calc: { twice: (n: HostValue) => (n as number) * 2 } };
// @ts-expect-error host functions return data, not functions
const notData: HostModules = { calc: { f: () => () => 1 } };
void notData;
const imports: ImportPolicy = { deny: ['socket'] };
const net: NetGrant = { allow: ['127.0.0.1:1'] };
void net;

{
  using sb = await Sandbox.create({ modules, imports });
  const r: RunResult = await sb.run('import calc\ntotal = sum(x * factor for x in data)\n{"total": calc.twice(total), "pair": (1, "b")}', {
    inputs: { data: [1, 2, 3], factor: 10 },
    filename: 'job.py',
  });
  if (!r.ok) throw new Error(`unexpected failure: ${r.error.message}`);
  // @ts-expect-error a successful run has no error
  const noError = () => r.error.message;
  void noError;
  assert.deepEqual(r.value, { total: 120, pair: Tuple.of<HostValue>(1, 'b') });
  assert.ok((r.value as { pair: HostValue }).pair instanceof Tuple);

  const failed = await sb.run('def check(n):\n    raise ValueError("bad %d" % n)\ncheck(total)', { filename: 'job.py' });
  if (failed.ok) throw new Error('expected a failure');
  assert.equal(failed.value, undefined);
  assert.deepEqual(failed.error.frames, [
    { filename: 'job.py', line: 3, name: '<module>' },
    { filename: 'job.py', line: 2, name: 'check' },
  ]);
  assert.match(failed.error.traceback ?? '', /File "job\.py", line 2, in check\nValueError: bad 60\n$/);
}

{
  await using worker = await Sandbox.create({ isolation: 'worker' });
  const controller = new AbortController();
  // Aborted as soon as the run says it has started: the loop is interrupted, the promise rejects.
  const aborted = worker.run('print("started")\nwhile True:\n    pass', { signal: controller.signal, onStdout: () => controller.abort() });
  await assert.rejects(aborted, (e: Error) => e.name === 'AbortError');
  const after = await worker.run('21 * 2');
  assert.equal(after.ok && after.value, 42);
  // An already-aborted signal never starts the run.
  await assert.rejects(worker.run('ran = True', { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError');
  assert.equal((await worker.run('"ran" in globals()')).value, false);
}

{
  await using pool = new Pool({ size: 1 });
  const r = await pool.run('[n + 1 for n in items]', { inputs: { items: [1, 2] } });
  assert.deepEqual(r.value, [2, 3]);
}
console.log('typescript consumer ok');
