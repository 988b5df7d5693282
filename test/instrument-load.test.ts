// Where a module is instrumented (src/instrument/load.ts, worker-client.ts): a small one on the
// calling thread when no instrumenting worker runs (starting one cost more than the rewrite), a large
// one in the worker, with its deadline and heap bound; a server's worker started and warmed up ahead
// of its first module, without keeping the process alive. The order of the steps matters: this file's
// process starts with no worker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { clearModuleCache, IN_PROCESS_MAX_BYTES, InvalidModuleError, loadModule } from '../src/instrument/load.js';
import { instrumentBinary } from '../src/instrument/meter.js';
import { warmupModule } from '../src/instrument/warmup-module.js';
import { instrumenter } from '../src/instrument/worker-client.js';

describe('where modules are instrumented', { timeout: 120_000 }, () => {
  it('the warm-up module is valid and metered like any other', () => {
    const bytes = warmupModule(100);
    assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>));
    const { bytes: out, meta } = instrumentBinary(bytes);
    assert.equal(meta.denied, undefined);
    assert.equal(meta.report.functions, 100);
    assert.ok(meta.report.loopChecks >= 100 && meta.report.bulkCharges >= 100 && meta.report.growSites >= 100);
    assert.ok(WebAssembly.validate(out as Uint8Array<ArrayBuffer>));
  });

  it('a small module on the calling thread while no worker runs, a large one in the worker, which then takes every module', async () => {
    clearModuleCache();
    const small = warmupModule(20);
    assert.equal(instrumenter().preferred, false);
    const loaded = await loadModule(small);
    assert.equal(loaded.source, 'instrumented');
    assert.equal(loaded.meta.report.functions, 20);
    assert.equal(instrumenter().preferred, false, 'no worker was started for a small module');
    // Refused the same way as by the worker.
    await assert.rejects(loadModule(small.subarray(0, small.length - 3)), InvalidModuleError);
    assert.equal(instrumenter().preferred, false);

    const large = warmupModule(Math.ceil(IN_PROCESS_MAX_BYTES / 200));
    assert.ok(large.length > IN_PROCESS_MAX_BYTES, `${large.length} bytes`);
    const big = await loadModule(large);
    assert.equal(big.meta.report.functions, Math.ceil(IN_PROCESS_MAX_BYTES / 200));
    assert.equal(instrumenter().preferred, true, 'a large module goes to the worker');
    const again = await loadModule(warmupModule(21));
    assert.equal(again.meta.report.functions, 21);
    await assert.rejects(loadModule(small.subarray(0, small.length - 3)), InvalidModuleError);
  });

  it('a worker warming up answers a module at once, and keeps no process alive', { timeout: 60_000 }, () => {
    const script = `
      const { instrumenter } = await import(${JSON.stringify(new URL('../src/instrument/worker-client.ts', import.meta.url).href)});
      const { warmupModule } = await import(${JSON.stringify(new URL('../src/instrument/warmup-module.ts', import.meta.url).href)});
      instrumenter().prewarm(1000); // far more rounds than the process lives: they must not hold it
      const { meta } = await instrumenter().instrument(warmupModule(7));
      console.log('instrumented', meta.report.functions);`;
    const run = (code: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 25_000 });
    const child = run(script);
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /instrumented 7/);
    // Only the warm-up: the process ends with its script (a ref'd worker would hold it to the timeout).
    const idle = run(script.replace(/const \{ meta \}[^\n]*\n/, '').replace(/console.log[^\n]*/, "console.log('started', instrumenter().preferred);"));
    assert.equal(idle.status, 0, idle.stderr || 'killed at the timeout');
    assert.match(idle.stdout, /started true/);
  });
});
