// Fuel calibration across engines: the same work (recursive fib, a loop of integer arithmetic, bulk
// byte copies) as MicroPython, CPython and a WebAssembly module (the metered module meter), printing
// fuel per CPU-second for each (the aim: within 3x across engines); and the module meter's
// overhead, metered vs the same module unmetered (a plain WebAssembly.Instance).
// Usage: npm run bench:calibrate [-- --runs N]. Markdown on stdout, progress on stderr.
import binaryen from 'binaryen';
import { Sandbox } from '../src/index.js';
import { WasmModule } from '../src/api/wasm-module.js';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s: string) => process.stderr.write(s + '\n');

/** CPU ms of `f` (this process; the guest runs inline on this thread). */
function cpu<T>(f: () => T): { value: T; ms: number } {
  const c = process.cpuUsage();
  const value = f();
  const u = process.cpuUsage(c);
  return { value, ms: (u.user + u.system) / 1000 };
}
async function cpuAsync<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const c = process.cpuUsage();
  const value = await f();
  const u = process.cpuUsage(c);
  return { value, ms: (u.user + u.system) / 1000 };
}

// The module does the same work scaled up (wasm is ~30-100x faster): per-second rates compare.
const WORK = {
  fib: { python: 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(24)', wasm: 'fib', arg: 30 },
  loop: { python: 'x = 0\nfor i in range(1000000):\n    x = (x * 31 + i) & 0xffff', wasm: 'loop', arg: 100_000_000 },
  copy: { python: 'b = bytearray(1 << 20)\nfor i in range(200):\n    c = bytes(b)', wasm: 'copy', arg: 2000 },
} as const;

const WAT = `(module (memory 40)
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "loop") (param i32) (result i32) (local $i i32) (local $x i32)
    (loop $l
      (local.set $x (i32.and (i32.add (i32.mul (local.get $x) (i32.const 31)) (local.get $i)) (i32.const 65535)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $x))
  (func (export "copy") (param i32) (result i32) (local $i i32)
    (loop $l
      (memory.copy (i32.const 1048576) (i32.const 0) (i32.const 1048576))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
    (local.get $i)))`;

const rows: string[] = ['| work | engine | fuel | CPU ms (median of ' + RUNS + ') | fuel per CPU-second |', '| --- | --- | --- | --- | --- |'];
const rates: Record<string, number[]> = {};
const row = (work: string, engine: string, fuel: number, ms: number) => {
  const rate = fuel / (ms / 1000);
  (rates[engine] ??= []).push(rate);
  rows.push(`| ${work} | ${engine} | ${fuel.toExponential(2)} | ${ms.toFixed(1)} | ${rate.toExponential(2)} |`);
};

for (const engine of ['micropython', 'cpython'] as const) {
  const sb = await Sandbox.create(engine === 'cpython' ? { engine: 'cpython' } : {});
  for (const [name, w] of Object.entries(WORK)) {
    const times: number[] = [];
    let fuel = 0;
    for (let i = 0; i < RUNS + 1; i++) {
      const { value, ms } = await cpuAsync(() => sb.run(w.python, { limits: { fuel: Infinity, timeoutMs: 60_000 } }));
      const r = value as { ok: boolean; usage: { fuel: number }; error?: unknown };
      if (!r.ok) throw new Error(`${engine} ${name}: ${JSON.stringify(r.error)}`);
      fuel = r.usage.fuel;
      if (i > 0) times.push(ms);
    }
    row(name, engine, fuel, median(times));
    log(`${engine} ${name}: fuel ${fuel}, ${median(times).toFixed(1)} ms`);
  }
  sb.dispose();
}

const metered = await WasmModule.compile(WAT);
const m = binaryen.parseText(WAT);
m.setFeatures(binaryen.Features.All);
const plainModule = new WebAssembly.Module(m.emitBinary() as Uint8Array<ArrayBuffer>);
// A fresh instance per call, as the fence makes per run.
const plain = (name: string, arg: number) => (new WebAssembly.Instance(plainModule).exports[name] as (x: number) => number)(arg);
m.dispose();
const overhead: string[] = ['| work (module) | unmetered CPU ms | metered CPU ms | overhead |', '| --- | --- | --- | --- |'];
const ratios: number[] = [];
for (const [name, w] of Object.entries(WORK)) {
  const meteredMs: number[] = [];
  const plainMs: number[] = [];
  let fuel = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    const a = cpu(() => metered.invokeWith({ wasi: false, limits: { fuel: Infinity } }, w.wasm, w.arg));
    const r = await a.value;
    if (!r.ok) throw new Error(`module ${name}: ${JSON.stringify(r.error)}`);
    fuel = r.usage.fuel;
    const b = cpu(() => plain(w.wasm, w.arg));
    if (i > 0) {
      meteredMs.push(a.ms);
      plainMs.push(b.ms);
    }
  }
  row(name, 'module (wasm)', fuel, median(meteredMs));
  ratios.push(median(meteredMs) / median(plainMs));
  overhead.push(`| ${name} | ${median(plainMs).toFixed(1)} | ${median(meteredMs).toFixed(1)} | ${((median(meteredMs) / median(plainMs) - 1) * 100).toFixed(0)}% |`);
}
const geo = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
rows.push('');
rows.push('| engine | geomean fuel per CPU-second |');
rows.push('| --- | --- |');
for (const [engine, rs] of Object.entries(rates)) rows.push(`| ${engine} | ${geo(rs).toExponential(2)} |`);
console.log(rows.join('\n'));
console.log('\nModule meter overhead (metered vs a plain instance of the same module):\n');
console.log(overhead.join('\n'));
console.log(`\ngeomean overhead: ${((geo(ratios) - 1) * 100).toFixed(0)}%`);
process.exit(0);
