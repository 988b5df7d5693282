// Measures what binaryen's asyncify would cost (the other way to let Python call async host functions
// synchronously; pyfence uses a worker thread instead): module size and CPU time on a few programs,
// against the same unmetered module without it. npm run bench:asyncify
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { EngineInstance } from '../src/guests/micropython/instance.js';
import { idleHooks } from '../src/guests/python-common/idle-hooks.js';
import { execSource } from '../src/guests/micropython/interpreter.js';

const base = readFileSync('wasm/pyfence-unmetered.wasm');
const m = binaryen.readBinary(base);
binaryen.setPassArgument('asyncify-imports', 'env.call1');
binaryen.setOptimizeLevel(2);
let t = performance.now();
m.runPasses(['asyncify']);
m.optimize();
const out = m.emitBinary();
console.log('asyncify pass ms', Math.round(performance.now() - t), 'size', base.length, '->', out.length, `(+${Math.round((out.length / base.length - 1) * 100)}%)`);
const programs = ['loops', 'recursion', 'dicts', 'sort', 'classes'].map((p) => [p, readFileSync(`bench/programs/${p}.py`, 'utf8')] as const);
const mods = { base: new WebAssembly.Module(base), asyncify: new WebAssembly.Module(out as Uint8Array<ArrayBuffer>) };
for (const [name, code] of programs) {
  const times: Record<string, number[]> = { base: [], asyncify: [] };
  for (let rep = 0; rep < 7; rep++) {
    for (const k of ['base', 'asyncify'] as const) {
      const inst = new EngineInstance(mods[k], { ...idleHooks, memoryLimitBytes: 1 << 30 });
      const s = performance.now();
      const r = execSource(inst, code);
      if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
      times[k].push(performance.now() - s);
    }
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(name, 'base', med(times.base).toFixed(1), 'asyncify', med(times.asyncify).toFixed(1), `+${Math.round((med(times.asyncify) / med(times.base) - 1) * 100)}%`);
}
