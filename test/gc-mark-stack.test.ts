// The collector's mark stack, enlarged into a region past the static data (build/passes/gc-mark-stack.ts):
// structures wider than the stack still overflow it into the heap rescan, structures that fill it
// to its bound mark right, and nothing else lives in the region.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { enlargeMarkStack, MARK_STACK_ENTRIES, type GcMarkStackReport } from '../build/passes/gc-mark-stack.js';
import { EngineInstance } from '../src/guests/micropython/instance.js';
import { execSource } from '../src/guests/micropython/interpreter.js';
import { sandboxModulePath } from '../src/guests/micropython/module.js';
import { ROOT } from './helpers.js';

/** python3's output for test/programs/gc-mark-stack.py (the program prints no address). */
const EXPECTED = `round 0 30000
round 1 40000
round 2 50000
wide 100000 0
deep 10000 0
dict 50000 0
chain 1000000 499999500000 0
`;

const report = (): GcMarkStackReport => JSON.parse(readFileSync(join(ROOT, 'wasm/manifest.json'), 'utf8')).variants.metered.gcMarkStack;

/** Runs `code` on a fresh instance of the metered module; returns its output and the instance (released by the caller). */
function run(code: string) {
  let out = '';
  const decoder = new TextDecoder();
  const inst = new EngineInstance(new WebAssembly.Module(readFileSync(sandboxModulePath())), {
    stdout: (b) => void (out += decoder.decode(b)),
    stderr: (b) => void (out += decoder.decode(b)),
    clock: { ticksMs: () => 0, timeMs: () => 0 },
    randomU32: () => 7,
    memoryLimitBytes: 512 * 1024 * 1024,
    sleep: () => {},
    hostCall: () => '',
  });
  inst.fuel.begin(Infinity, { checkpoint: () => {}, exhausted: () => {} });
  const outcome = execSource(inst, code);
  inst.fuel.end();
  return { outcome, out, inst };
}

/** The stack's entries, from the region in the instance's memory. */
function entries(inst: EngineInstance, at: number): Uint32Array {
  return new Uint32Array(inst.memory.bytes(at, MARK_STACK_ENTRIES * 4).slice().buffer);
}

describe('gc mark stack', () => {
  it('marks a list wider than the stack (overflow and rescan), nested lists, a dict and a 1M-node chain as python3 prints them', () => {
    const r = report();
    assert.equal(r.entries, MARK_STACK_ENTRIES);
    const { outcome, out, inst } = run(readFileSync(join(ROOT, 'test/programs/gc-mark-stack.py'), 'utf8'));
    try {
      assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
      assert.equal(out, EXPECTED);
      // The wide list filled the stack to its last entry (so its marking overflowed: it has more
      // unmarked children than entries), and the elements it dropped were marked by the rescan.
      const areas = entries(inst, r.areas);
      const blocks = entries(inst, r.blocks);
      assert.notEqual(areas[MARK_STACK_ENTRIES - 1], 0, 'the last entry was never pushed');
      assert.notEqual(blocks[MARK_STACK_ENTRIES - 1], 0);
    } finally {
      inst.release();
    }
  });

  it('reserves the region between the static data and the heap: objects are placed past it', () => {
    const r = report();
    assert.equal(r.blocks, r.sbrkStart.from);
    assert.equal(r.areas, r.blocks + 4 * MARK_STACK_ENTRIES);
    assert.equal(r.sbrkStart.to, r.areas + 4 * MARK_STACK_ENTRIES);
    assert.ok(r.oldAreas + 64 * 4 <= r.blocks, 'the region starts past the static state that held the old stack');
    const { outcome, out, inst } = run('xs = [object(), [], {}, "s" * 40, bytearray(100), 1 << 80]\nprint(min(id(x) for x in xs))\n');
    try {
      assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
      assert.ok(Number(out) >= r.sbrkStart.to, `an object at ${out.trim()}, inside the region ending at ${r.sbrkStart.to}`);
    } finally {
      inst.release();
    }
  });

  it('stops the build on a module whose collector it does not recognise', () => {
    const m = new binaryen.Module();
    m.setMemory(1, 1, 'memory', [], false, false, 'mem');
    m.addFunction('gc', binaryen.none, binaryen.none, [], m.nop());
    assert.throws(() => enlargeMarkStack(m, 1024), /gc mark stack: expected 2 pushes and 2 pops, found 0 and 0/);
    m.dispose();
  });
});
