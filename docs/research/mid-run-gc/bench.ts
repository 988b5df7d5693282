// usage: tsx bench.ts <reps> <wasm...> -- <prog.py...> ; min/median ms per (wasm, prog), fresh instance per run
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { EngineInstance } from '../../../src/guests/micropython/instance.js';
import { execSource } from '../../../src/guests/micropython/interpreter.js';
const args = process.argv.slice(2);
const reps = Number(args.shift());
const sep = args.indexOf('--');
const wasms = args.slice(0, sep), progs = args.slice(sep + 1);
const dec = new TextDecoder();
for (const prog of progs) {
  const src = readFileSync(prog, 'utf8');
  for (const w of wasms) {
    const module = new WebAssembly.Module(readFileSync(w));
    const times: number[] = []; let sha = ''; let peak = 0; let kind = '';
    for (let i = 0; i < reps; i++) {
      let out = '';
      const inst = new EngineInstance(module, {
        stdout: (b) => { out += dec.decode(b); }, stderr: (b) => { out += dec.decode(b); },
        clock: { ticksMs: () => performance.now(), timeMs: () => Date.now() }, randomU32: () => 1,
        memoryLimitBytes: 1024 * 1024 * 1024, sleep: () => {},
      });
      const t0 = performance.now();
      const r = execSource(inst, src);
      times.push(performance.now() - t0);
      kind = r.kind; peak = inst.memoryPeakBytes;
      sha = createHash('sha256').update(out).digest('hex').slice(0, 10);
    }
    times.sort((a, b) => a - b);
    console.log(`${prog.split('/').pop()!.padEnd(12)} ${w.split('/').pop()!.padEnd(18)} min ${times[0].toFixed(0).padStart(6)} med ${times[times.length >> 1].toFixed(0).padStart(6)} ms  ${kind} out=${sha} peak=${(peak / 1048576).toFixed(1)}MiB`);
  }
}
