// usage: tsx runner.ts <wasm> <prog.py> [memLimitMiB] [thresh] -> one JSON line
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { EngineInstance } from '../../../src/guests/micropython/instance.js';
import { execSource } from '../../../src/guests/micropython/interpreter.js';
const [wasmPath, progPath, memMiB = '256', thresh] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(wasmPath));
let out = '';
const dec = new TextDecoder();
const inst = new EngineInstance(module, {
  stdout: (b) => { out += dec.decode(b); },
  stderr: (b) => { out += dec.decode(b); },
  clock: { ticksMs: () => performance.now(), timeMs: () => Date.now() },
  randomU32: () => 12345,
  memoryLimitBytes: Number(memMiB) * 1024 * 1024,
  sleep: () => {},
});
let src = readFileSync(progPath, 'utf8');
if (thresh) src = `THRESH = ${thresh}\n` + src;
const t0 = performance.now();
const r = execSource(inst, src);
const ms = performance.now() - t0;
console.log(JSON.stringify({
  wasm: wasmPath.split('/').pop(), prog: progPath.split('/').pop(), thresh: thresh ?? null, ms: Math.round(ms),
  outcome: r.kind === 'exception' ? { kind: r.kind, type: r.type, tb: r.traceback.slice(-200) } : r,
  out: out.length > 300 ? out.slice(0, 300) + '...' : out, outSha: createHash('sha256').update(out).digest('hex').slice(0, 12),
  peakMiB: +(inst.memoryPeakBytes / 1048576).toFixed(1),
}));
