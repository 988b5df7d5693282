// The CPython engine below the Sandbox API: what the build made, and that a recycled memory carries
// nothing of the interpreter that used it before.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';
import { cpythonTemplate, initHooks, newCPythonInstance } from '../src/guests/cpython/template.js';
import { loadCPythonModule } from '../src/guests/cpython/module.js';
import { CPythonFS } from '../src/guests/cpython/stdlib-fs.js';

const manifest = JSON.parse(readFileSync(join(ROOT, 'wasm/cpython-manifest.json'), 'utf8'));

describe('CPython engine internals', () => {
  it('the build resolved the GOT imports, metered the module and left no memory.grow in it', () => {
    assert.equal(manifest.source.package, 'pyodide@314.0.7');
    assert.equal(manifest.module.gotImports, 280);
    assert.equal(manifest.module.memoryGrows, 0);
    assert.ok(manifest.module.metering.loopChecks > 5000, JSON.stringify(manifest.module.metering));
    assert.ok(manifest.module.exportsRemoved > 8000);
    assert.equal(manifest.state.origin.length, 64);
  });

  it('the engine instantiates a module that imports its memory, has no data and imports nothing of GOT', () => {
    const { module } = loadCPythonModule();
    const imports = WebAssembly.Module.imports(module);
    assert.ok(imports.some((i) => i.module === 'pyfence' && i.name === 'memory' && i.kind === 'memory'));
    assert.ok(imports.some((i) => i.module === 'pyfence' && i.name === 'fuel_exhausted'));
    assert.deepEqual(imports.filter((i) => i.module.startsWith('GOT')), []);
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    assert.ok(exports.length < 100, `${exports.length} exports`);
  });

  it('a recycled memory is the template image again, byte for byte, before the next guest runs', () => {
    const template = cpythonTemplate();
    const first = newCPythonInstance(initHooks(), new CPythonFS({}, template.stdlib));
    const memory = first.exports.memory;
    first.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });
    const code = first.allocString('secret = "TOP-SECRET-" * 100000\nimport json\nleft = json.dumps({"k": secret[:50]})');
    assert.equal(first.call((e) => e.PyRun_SimpleString(code)), 0);
    assert.ok(Buffer.from(memory.buffer).includes('TOP-SECRET-TOP-SECRET-'));
    first.release();
    const second = newCPythonInstance(initHooks(), new CPythonFS({}, template.stdlib));
    assert.equal(second.exports.memory, memory, 'the memory was recycled');
    assert.equal(Buffer.compare(Buffer.from(memory.buffer), Buffer.from(template.image.buffer)), 0);
    assert.equal(Buffer.from(memory.buffer).includes('TOP-SECRET-'), false);
    second.release();
  });
});
