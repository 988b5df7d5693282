// The CPython engine below the Sandbox API: what the build made, and that a recycled memory carries
// nothing of the interpreter that used it before.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';
import { cpythonTemplate, initHooks, newCPythonInstance, templateBytes } from '../src/guests/cpython/template.js';
import { loadCPythonModule } from '../src/guests/cpython/module.js';
import { CPythonFS } from '../src/guests/cpython/stdlib-fs.js';
import { readSections, SectionId } from '../src/instrument/sections.js';
import { readUleb } from '../src/engine/wasm-binary.js';

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

  it('the metered module keeps few locals per function (the eval loop is compiled first at every start)', () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, 'wasm/cpython.wasm')));
    const code = readSections(bytes, true).sections.find((s) => s.id === SectionId.Code)!;
    const count = readUleb(bytes, code.start);
    let at = count.next;
    let most = 0;
    for (let i = 0; i < count.value; i++) {
      const size = readUleb(bytes, at);
      const end = size.next + size.value;
      const groups = readUleb(bytes, size.next);
      let p = groups.next;
      let locals = 0;
      for (let g = 0; g < groups.value; g++) {
        const n = readUleb(bytes, p);
        locals += n.value;
        p = n.next + 1; // one byte of value type: the module has no typed references
      }
      most = Math.max(most, locals);
      at = end;
    }
    assert.equal(at, code.end);
    // Pyodide's build has at most 181 in a function; read back after metering, before the build
    // coalesced them, the most was 2,358 (the eval loop's 44 were 843).
    assert.ok(most < 400, `a function has ${most} locals`);
  });

  it('the template holds the live interpreter, not the free heap its initialisation left', () => {
    // 14.5 MiB of non-zero pages before the free heap was zeroed, 11.9 MiB after (it is deterministic).
    assert.ok(templateBytes() < 12.5 * 2 ** 20, `${templateBytes()} bytes`);
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
