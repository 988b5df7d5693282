// Compares wasm modules on the benchmark programs: each program runs on a fresh instance of every
// module, interleaved run by run; prints the median ms per module and the geomean ratio to the first.
// usage: npx tsx bench/ab-modules.ts <runs> <a.wasm> <b.wasm>... -- bench/programs/*.py
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { EngineInstance } from '../src/engine/instance.js';
import { execSource } from '../src/python/interpreter.js';
const args = process.argv.slice(2);
const reps = Number(args.shift());
const sep = args.indexOf('--');
const wasms = args.slice(0, sep), progs = args.slice(sep + 1);
const dec = new TextDecoder();
const mods = wasms.map((w) => new WebAssembly.Module(readFileSync(w)));
const geo: number[][] = wasms.map(() => []);
for (const prog of progs) {
  const src = readFileSync(prog, 'utf8');
  const times: number[][] = wasms.map(() => []);
  const shas: string[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    mods.forEach((module, k) => {
      let out = '';
      const inst = new EngineInstance(module, {
        stdout: (b) => { out += dec.decode(b); }, stderr: (b) => { out += dec.decode(b); },
        clock: { ticksMs: () => performance.now(), timeMs: () => Date.now() }, randomU32: () => 1,
        memoryLimitBytes: 1024 * 1024 * 1024, sleep: () => {},
        hostCall: () => { throw new Error('benchmark programs do not call the host'); },
      });
      const t0 = performance.now();
      const r = execSource(inst, src);
      const dt = performance.now() - t0;
      if (i > 0) times[k].push(dt);
      if (r.kind !== 'ok') out += JSON.stringify(r);
      shas[k] = createHash('sha256').update(out).digest('hex').slice(0, 8);
      peaks[k] = inst.memoryPeakBytes;
    });
  }
  const med = times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
  med.forEach((m, k) => geo[k].push(m / med[0]));
  console.log(prog.split('/').pop()!.padEnd(16) + med.map((m, k) => `${m.toFixed(0).padStart(6)} (${(m / med[0]).toFixed(2)}) ${shas[k]} ${(peaks[k] / 1048576).toFixed(1)}M`).join('  |'));
}
console.log('geomean ratio vs first: ' + geo.map((g) => Math.exp(g.reduce((a, b) => a + Math.log(b), 0) / g.length).toFixed(3)).join(' '));
