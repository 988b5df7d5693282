// The build transform: what it found and changed, and that it is deterministic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, tempDir } from './helpers.js';
import { sandboxModule } from '../src/guests/micropython/module.js';

const manifest = JSON.parse(readFileSync(join(ROOT, 'wasm/manifest.json'), 'utf8'));

describe('build', { timeout: 600_000 }, () => {
  it('replaced the JS setjmp trampolines and trapped the fatal loops in both variants', () => {
    for (const variant of ['metered', 'unmetered']) {
      const v = manifest.variants[variant];
      assert.equal(v.invokesReplaced, 11, variant);
      assert.equal(v.fatalLoopsTrapped, 2, variant);
      // The baked interpreter starts small (about 1.25 MiB, and the collector's 512 KiB mark stack,
      // build/passes/gc-mark-stack.ts) and the same in both variants.
      assert.ok(v.bake.initialPages >= 24 && v.bake.initialPages <= 32, `${variant}: ${v.bake.initialPages} pages`);
      assert.equal(v.bake.initialPages, manifest.variants.metered.bake.initialPages);
    }
    assert.ok(manifest.variants.metered.metering.loopChecks > 500);
    assert.equal(manifest.variants.unmetered.metering, null);
  });

  it('the sandbox module imports no JS trampolines and exports the fuel counter', () => {
    const imports = WebAssembly.Module.imports(sandboxModule()).map((i) => `${i.module}.${i.name}`);
    assert.deepEqual(imports.filter((n) => /invoke_|throw_longjmp/.test(n)), []);
    assert.ok(imports.includes('pyfence.fuel_exhausted'));
    assert.ok(imports.includes('pyfence.sleep_ms'));
    const exports = WebAssembly.Module.exports(sandboxModule()).map((e) => e.name);
    assert.ok(exports.includes('pyfence_fuel'));
  });

  it('leaves memory growth and the memory size the guest sees to the host alone', async () => {
    // The memory cap is enforced in the host's emscripten_resize_heap: that holds only while no code
    // of the module can grow its memory or rewrite the size the host keeps (docs/threat-model.md).
    const { default: binaryen } = await import('binaryen');
    for (const variant of ['metered', 'unmetered']) {
      const m = binaryen.readBinary(readFileSync(join(ROOT, 'wasm', variant === 'metered' ? 'pyfence.wasm' : 'pyfence-unmetered.wasm')));
      const text = m.emitText();
      m.dispose();
      assert.equal(text.match(/memory\.grow/g)?.length ?? 0, 0, `${variant}: memory.grow in guest code`);
      const sizeGlobal = text.match(/\(export "pyfence_memory_bytes" \(global \$(\S+)\)\)/)?.[1];
      assert.ok(sizeGlobal, `${variant}: no exported memory-size global`);
      assert.equal(text.split(`global.set $${sizeGlobal}\n`).length - 1, 0, `${variant}: guest code writes the memory size`);
      assert.ok(text.includes(`global.get $${sizeGlobal}`), `${variant}: the memory size is never read (the pattern is stale)`);
    }
  });

  it('is deterministic: a rebuild gives byte-identical modules', { timeout: 480_000 }, () => {
    const out = tempDir('build');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'build/build.ts', '--force', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 470_000, // a rebuild of both variants takes 1-4 min, by the machine's load
    });
    assert.equal(r.status, 0, r.stderr);
    const rebuilt = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    for (const variant of ['metered', 'unmetered']) {
      assert.equal(rebuilt.variants[variant].sha256, manifest.variants[variant].sha256, variant);
    }
  });
});
