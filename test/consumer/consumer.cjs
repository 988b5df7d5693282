// A plain CommonJS program using the installed package.
const assert = require('node:assert/strict');
const { Sandbox } = require('pyfence');

(async () => {
  const sb = await Sandbox.create({ isolation: 'worker' });
  try {
    const r = await sb.run('name.upper() + "!"', { inputs: { name: 'ada' }, filename: 'greet.py' });
    assert.equal(r.value, 'ADA!');
    const failed = await sb.run('1 / 0', { filename: 'greet.py' });
    assert.deepEqual(failed.error.frames, [{ filename: 'greet.py', line: 1, name: '<module>' }]);
    const controller = new AbortController();
    const run = sb.run('print("go")\nimport time\ntime.sleep(60)', { signal: controller.signal, onStdout: () => controller.abort('stop') });
    await assert.rejects(run, (reason) => reason === 'stop');
  } finally {
    sb[Symbol.dispose]();
  }
  assert.equal(sb.disposed, true);
  console.log('javascript consumer ok');
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
