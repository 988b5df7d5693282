// Memories of disposed sandboxes are recycled (src/engine/memory-pool.ts). A recycled memory must be
// indistinguishable from a fresh one: no bytes of the previous guest, the same output, fuel, peak and
// collection decisions (the guest sees the logical size, build/passes/logical-memory.ts), the same cap.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EngineInstance } from '../src/guests/micropython/instance.js';
import type { HostHooks } from '../src/engine/host.js';
import { sandboxModulePath } from '../src/guests/micropython/module.js';
import { execSource } from '../src/guests/micropython/interpreter.js';
import { Sandbox } from '../src/index.js';

const MiB = 1024 * 1024;
const decoder = new TextDecoder();

/** A module compiled on its own: its pool of memories is its own (pools are per module object). */
function compileModule(): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(sandboxModulePath()));
}

function instance(module: WebAssembly.Module, limitBytes = 64 * MiB): { inst: EngineInstance; out: () => string } {
  let out = '';
  const hooks: HostHooks = {
    stdout: (b) => void (out += decoder.decode(b)),
    stderr: (b) => void (out += decoder.decode(b)),
    clock: { ticksMs: () => 0, timeMs: () => 0 },
    randomU32: () => 7,
    memoryLimitBytes: limitBytes,
    sleep: () => {},
    hostCall: () => '',
  };
  return { inst: new EngineInstance(module, hooks), out: () => out };
}

/** Runs `code` on `inst` with a fuel meter, returning what a sandbox run would report. */
function measure(inst: EngineInstance, out: () => string, code: string) {
  inst.resetMemoryPeak();
  inst.fuel.begin(Infinity, { checkpoint: () => {}, exhausted: () => {} });
  const outcome = execSource(inst, code);
  const fuel = inst.fuel.end();
  return { outcome: outcome.kind, out: out(), fuel, peak: inst.memoryPeakBytes, physical: inst.memory.byteLength };
}

const SECRET = 'pyfence-secret-0123456789';
// Objects with identity-based hashes make output depend on addresses, which depend on when the
// collector ran: it must run at the same points in a recycled memory as in a fresh one.
const PROGRAM = `
class K:
    pass
keep = []
for i in range(30000):
    s = str(i) * 12
    if i % 7 == 0:
        keep.append(K())
seen = set(keep)
print(len(seen), [id(k) % 4096 for k in keep[:5]], sorted(id(k) for k in keep)[:3] == sorted(id(k) for k in seen)[:3])
`;

describe('recycled memories', () => {
  it('hold nothing of the previous sandbox, and the next instance starts from the baked state', () => {
    const module = compileModule();
    const a = instance(module);
    const grown = measure(a.inst, a.out, `data = [${JSON.stringify(SECRET)} + str(i) for i in range(60000)]\nprint(len(data))`);
    assert.equal(grown.out, "60000\n");
    assert.ok(grown.physical > 2 * MiB, `the first run grew memory (${grown.physical})`);
    a.inst.release();

    const b = instance(module);
    const fresh = instance(compileModule()); // another module object: a new memory
    assert.equal(b.inst.memory.byteLength, grown.physical, 'the second instance got the recycled memory');
    const all = b.inst.memory.bytes(0, b.inst.memory.byteLength);
    assert.ok(!Buffer.from(all).includes(SECRET), 'the previous guest left bytes behind');
    const initial = fresh.inst.memory.byteLength;
    assert.equal(b.inst.memoryBytes, initial, 'the guest sees the size of a fresh memory');
    assert.deepEqual(Buffer.from(all.subarray(0, initial)), Buffer.from(fresh.inst.memory.bytes(0, initial)));
    assert.ok(all.subarray(initial).every((x) => x === 0));
  });

  it('give the same output, fuel, peak and collections as a fresh memory', () => {
    const module = compileModule();
    const big = instance(module);
    measure(big.inst, big.out, 'x = bytearray(10 * 1024 * 1024)');
    big.inst.release();
    const recycled = instance(module);
    const fresh = instance(compileModule());
    const r = measure(recycled.inst, recycled.out, PROGRAM);
    const f = measure(fresh.inst, fresh.out, PROGRAM);
    assert.ok(r.physical > f.physical, `the recycled memory is physically larger (${r.physical} vs ${f.physical})`);
    assert.equal(r.outcome, 'ok', r.out);
    assert.deepEqual({ out: r.out, fuel: r.fuel, peak: r.peak }, { out: f.out, fuel: f.fuel, peak: f.peak });
  });

  it('keep the cap on what the guest is given, not on the physical size', () => {
    const module = compileModule();
    const big = instance(module);
    measure(big.inst, big.out, 'x = bytearray(12 * 1024 * 1024)');
    big.inst.release();
    const capped = instance(module, 4 * MiB);
    assert.ok(capped.inst.memory.byteLength > 12 * MiB);
    const r = measure(capped.inst, capped.out, 'try:\n    y = bytearray(6 * 1024 * 1024)\n    print("got it")\nexcept MemoryError:\n    print("refused")');
    assert.equal(r.out, 'refused\n');
    assert.ok(r.peak <= 4 * MiB, `peak ${r.peak}`);
  });

  it('are given back only after the last guest frame of an instance released inside its own call', () => {
    const module = compileModule();
    let inst: EngineInstance | null = null;
    let out = '';
    inst = new EngineInstance(module, {
      stdout: (b) => {
        out += decoder.decode(b);
        inst!.release(); // as a host callback disposing its own sandbox would
        // A new instance now must not get the memory the guest above is still running on.
        const other = instance(module);
        measure(other.inst, other.out, 'z = "overwrite" * 1000');
        other.inst.release();
      },
      stderr: () => {},
      clock: { ticksMs: () => 0, timeMs: () => 0 },
      randomU32: () => 1,
      memoryLimitBytes: 64 * MiB,
      sleep: () => {},
      hostCall: () => '',
    });
    // The call runs to its end on its own memory; its result cannot be read once it is given back.
    assert.throws(() => execSource(inst!, 'a = [i * i for i in range(1000)]\nprint(sum(a))\nprint(sum(a) + len(a))'));
    assert.equal(out, '332833500\n332834500\n');
    assert.throws(() => execSource(inst!, 'print(1)'), /released/);
  });

  it('a sandbox disposed by a host function during its run finishes the run first', async () => {
    let sb: Sandbox | null = null;
    sb = await Sandbox.create({ modules: { host: { bye: () => sb!.dispose() } } });
    const r = await sb.run('import host\nhost.bye()\nprint(sum(range(10)))');
    assert.equal(r.stdout, '45\n', JSON.stringify(r.error));
    await assert.rejects(sb.run('print(1)'), /disposed/);
  });

  it('make disposed sandboxes cheap to replace: a thousand fresh sandboxes reuse memories', async () => {
    for (let i = 0; i < 1000; i++) {
      const sb = await Sandbox.create();
      const r = await sb.run(`print(${i} * 2)`);
      sb.dispose();
      assert.equal(r.stdout, `${i * 2}\n`);
    }
  });
});
