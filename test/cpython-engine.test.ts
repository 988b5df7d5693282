// The CPython engine below the Sandbox API: what the build made, and that a recycled memory carries
// nothing of the interpreter that used it before.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';
import { cpythonTemplate, fitInterpreterStack, initHooks, newCPythonInstance, templateBytes, templateStdlib } from '../src/guests/cpython/template.js';
import { CPythonInstance } from '../src/guests/cpython/instance.js';
import { loadCPythonModule } from '../src/guests/cpython/module.js';
import { CPythonFS } from '../src/guests/cpython/stdlib-fs.js';
import { readSections, SectionId } from '../src/instrument/sections.js';
import { readUleb } from '../src/engine/wasm-binary.js';
import { Sandbox } from '../src/index.js';
import binaryen from 'binaryen';
import { countGuardedWrites } from '../build/cpython/module-edits.js';

const manifest = JSON.parse(readFileSync(join(ROOT, 'wasm/cpython-manifest.json'), 'utf8'));

describe('CPython engine internals', () => {
  it('the build resolved the GOT imports, metered the module and left no memory.grow in it', () => {
    assert.equal(manifest.source.package, 'pyodide@314.0.7');
    assert.equal(manifest.module.gotImports, 280);
    assert.equal(manifest.module.memoryGrows, 0);
    assert.equal(manifest.module.functionTableWrites, 0); // what reusing an instance rests on
    assert.ok(manifest.module.metering.loopChecks > 5000, JSON.stringify(manifest.module.metering));
    assert.ok(manifest.module.exportsRemoved > 8000);
    assert.equal(manifest.state.origin.length, 64);
  });

  it('the build counts memory.grow and function-table writes (it refuses a module with either)', () => {
    const m = binaryen.parseText(`(module (memory 1) (table $f 1 funcref) (table $x 0 externref)
      (func $other_table (table.set $x (i32.const 0) (ref.null extern)) (drop (table.grow $x (ref.null extern) (i32.const 1))))
      (func $function_table (table.set $f (i32.const 0) (ref.null func)) (drop (table.grow $f (ref.null func) (i32.const 1))))
      (func $grow (drop (memory.grow (i32.const 1)))))`);
    try {
      assert.deepEqual(countGuardedWrites(m), { memoryGrows: 1, functionTableWrites: 2 });
    } finally {
      m.dispose();
    }
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

  it('the template holds the live interpreter and the runner, not the free heap its initialisation left', () => {
    // 14.5 MiB of non-zero pages before the free heap was zeroed, 11.9 MiB after (it is deterministic);
    // 7.7 MiB without the 30 preloaded modules and asyncio.
    assert.ok(templateBytes() < 8.5 * 2 ** 20, `${templateBytes()} bytes`);
  });

  it('the stdlib zip has a build-made .pyc beside every module', () => {
    assert.equal(manifest.stdlib.source, manifest.source.files['python_stdlib.zip']);
    assert.ok(manifest.stdlib.compiled > 500, JSON.stringify(manifest.stdlib));
    assert.equal(manifest.stdlib.skipped, 0);
  });

  it('a program imports the stdlib from its .pyc, asyncio fitted on first import; tracebacks still show the source', async () => {
    const sb = await Sandbox.create({ engine: 'cpython' });
    try {
      const template = await sb.run('import sys\nprint("asyncio" in sys.modules, "typing" in sys.modules)');
      assert.equal(template.stdout, 'False False\n');
      // 9.1e8 fuel compiled from source; 4.7e7 from the .pyc (fuel is deterministic).
      const minidom = await sb.run('import xml.dom.minidom\nprint(xml.dom.minidom.__spec__.origin)');
      assert.equal(minidom.stdout, '/lib/python314.zip/xml/dom/minidom.pyc\n');
      assert.ok(minidom.usage.fuel < 1e8, `${minidom.usage.fuel} fuel`);
      const loop = await sb.run(
        'import asyncio\nfrom asyncio import selector_events\nprint(selector_events.BaseSelectorEventLoop._write_to_self.__module__)\nprint(asyncio.run(asyncio.sleep(0.01, "slept")))',
      );
      assert.equal(loop.stdout, '_pyfence_asyncio\nslept\n');
      const error = await sb.run('import json\njson.loads("{")');
      assert.match(error.error?.traceback ?? '', /File "\/lib\/python314\.zip\/json\/decoder\.py", line \d+, in raw_decode\n +obj, end = self\.scan_once\(s, idx\)/);
    } finally {
      sb.dispose();
    }
  });

  it('a recycled memory is the template image again, byte for byte, before the next guest runs', () => {
    const template = cpythonTemplate();
    const first = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    const memory = first.exports.memory;
    first.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });
    const code = first.allocString('secret = "TOP-SECRET-" * 100000\nimport json\nleft = json.dumps({"k": secret[:50]})');
    assert.equal(first.call((e) => e.PyRun_SimpleString(code)), 0);
    assert.ok(Buffer.from(memory.buffer).includes('TOP-SECRET-TOP-SECRET-'));
    first.release();
    const second = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    assert.equal(second.exports.memory, memory, 'the memory was recycled');
    assert.equal(second.exports.PyRun_SimpleString, first.exports.PyRun_SimpleString, 'with its instance');
    assert.equal(Buffer.compare(Buffer.from(memory.buffer), Buffer.from(template.image.buffer)), 0);
    assert.equal(Buffer.from(memory.buffer).includes('TOP-SECRET-'), false);
    assert.deepEqual(second.registers(), { globals: template.state.globals, zoneName: template.state.zoneName });
    second.release();
  });

  it('a recycled memory is reset wherever its guest wrote: a freed secret, and a byte changed in every 64 KiB of it', () => {
    const template = cpythonTemplate();
    const first = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    const memory = first.exports.memory;
    first.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });
    const code = first.allocString('secret = b"FREED-SECRET-" * 200000\ndel secret');
    assert.equal(first.call((e) => e.PyRun_SimpleString(code)), 0);
    const bytes = Buffer.from(memory.buffer);
    assert.ok(bytes.includes('FREED-SECRET-FREED-SECRET-'), 'the freed bytes are still in memory');
    // A guest may corrupt its own memory anywhere (the stack, the data, past the heap's top): the
    // reset trusts nothing it left, so a changed byte at a different place in each block goes too.
    for (let at = 0, i = 0; at < bytes.length; at += 64 * 1024, i++) bytes[at + ((i * 4099) % (64 * 1024))] ^= 0xa5;
    first.release();
    const second = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    assert.equal(second.exports.memory, memory, 'the memory was recycled');
    assert.equal(Buffer.compare(Buffer.from(memory.buffer), Buffer.from(template.image.buffer)), 0);
    assert.equal(Buffer.from(memory.buffer).includes('FREED-SECRET-'), false);
    second.release();
  });

  it("a process's first interpreter runs on the memory the baked state was read into; the image, read later, is that state and resets it", () => {
    // A new process: the template's head and first memory are per process.
    const dir = mkdtempSync(join(tmpdir(), 'pyfence-first-'));
    try {
      const script = join(dir, 'first.ts');
      const src = (rel: string) => JSON.stringify(join(ROOT, rel));
      writeFileSync(
        script,
        [
          `import { cpythonTemplate, initHooks, newCPythonInstance, templateStdlib } from ${src('src/guests/cpython/template.ts')};`,
          `import { CPythonFS } from ${src('src/guests/cpython/stdlib-fs.ts')};`,
          'const fs = () => new CPythonFS({}, templateStdlib());',
          'const first = newCPythonInstance(initHooks(), fs());',
          'const memory = first.exports.memory;',
          'const t = cpythonTemplate();',
          'const asImage = () => Buffer.compare(Buffer.from(memory.buffer), Buffer.from(t.image.buffer)) === 0;',
          'const out: Record<string, unknown> = { source: t.source, firstIsImage: asImage() };',
          'first.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });',
          'out.ran = first.call((e) => e.PyRun_SimpleString(first.allocString(\'s = b"FIRST-SECRET-" * 50000\\ndel s\')));',
          'first.release();',
          'const second = newCPythonInstance(initHooks(), fs());',
          'out.recycled = second.exports.memory === memory;',
          'out.secondIsImage = asImage();',
          'out.secretLeft = Buffer.from(memory.buffer).includes("FIRST-SECRET-");',
          'console.log(JSON.stringify(out));',
        ].join('\n'),
      );
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      assert.deepEqual(JSON.parse(stdout.trim()), { source: 'baked', firstIsImage: true, ran: 0, recycled: true, secondIsImage: true, secretLeft: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an instance whose externref tables changed is not reused; a reused one runs a program on the same fuel as a new one', () => {
    const template = cpythonTemplate();
    const fuelOf = (inst: CPythonInstance) => {
      inst.fuel.begin(Infinity, { checkpoint() {}, exhausted() {} });
      const code = inst.allocString('import json\nx = json.dumps({str(i): i * i for i in range(300)})\ntry:\n    1/0\nexcept ZeroDivisionError:\n    pass');
      assert.equal(inst.call((e) => e.PyRun_SimpleString(code)), 0);
      return inst.fuel.end();
    };
    // Outside the pool: a new instance and memory, restored from the template.
    const alone = new CPythonInstance(template.module, initHooks(), new CPythonFS({}, templateStdlib()), [], new WebAssembly.Memory({ initial: template.limits.initialPages, maximum: template.limits.maximumPages }));
    alone.restoreState(template.state);
    fitInterpreterStack(alone);
    const expected = fuelOf(alone);
    alone.release();

    const first = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    assert.equal(fuelOf(first), expected);
    first.release();
    const reused = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    assert.equal(reused.exports.PyRun_SimpleString, first.exports.PyRun_SimpleString, 'the instance was reused');
    assert.equal(fuelOf(reused), expected);
    const table = reused.exports.pyfence_table_0 as WebAssembly.Table;
    assert.ok(table instanceof WebAssembly.Table && table.length === 0);
    table.grow(1);
    reused.release();
    const next = newCPythonInstance(initHooks(), new CPythonFS({}, templateStdlib()));
    assert.equal(next.exports.memory, reused.exports.memory, 'the memory was recycled');
    assert.notEqual(next.exports.PyRun_SimpleString, reused.exports.PyRun_SimpleString, 'not the instance');
    assert.equal((next.exports.pyfence_table_0 as WebAssembly.Table).length, 0);
    assert.equal(fuelOf(next), expected);
    next.release();
  });
});
