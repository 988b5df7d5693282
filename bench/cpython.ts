// CPython engine benchmark: fresh-sandbox latency, RSS per idle session, the CPU programs metered vs
// python3, and Pyodide's own loader once (the comparison the engine exists to win).
// Run: npm run bench:cpython [-- --quick]
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox } from '../src/api/sandbox.js';
import { cpythonTemplate, templateBytes } from '../src/guests/cpython/template.js';
import { runPython3 } from './lib/python3.js';
import { median, percentile } from './lib/stats.js';

const quick = process.argv.includes('--quick');
const PROGRAMS = fileURLToPath(new URL('./programs/', import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function freshLatency(n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const sb = await Sandbox.create({ engine: 'cpython' });
    const r = await sb.run('print(1+1)');
    sb.dispose();
    times.push(performance.now() - t0);
    if (r.stdout !== '2\n') throw new Error(`unexpected output ${JSON.stringify(r)}`);
  }
  return times;
}

/** Collected, and the memories collected given back: V8 frees a wasm memory's pages after the collection, on another thread. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RSS per idle session (n held after one small run), awake or hibernated; and what hibernating costs. */
async function rssPerSession(n: number, hibernate: boolean): Promise<{ perMiB: number; parkMs: number[]; wakeMs: number[] }> {
  await settle();
  const before = process.memoryUsage().rss;
  const held: Sandbox[] = [];
  for (let i = 0; i < n; i++) {
    const sb = await Sandbox.create({ engine: 'cpython', hibernateAfterMs: Infinity });
    await sb.run(`x = ${i}`);
    held.push(sb);
  }
  const parkMs: number[] = [];
  for (const sb of hibernate ? held : []) {
    const t0 = performance.now();
    if (!sb.hibernate()) throw new Error('a session did not hibernate');
    parkMs.push(performance.now() - t0);
  }
  await settle();
  const perMiB = (process.memoryUsage().rss - before) / n / 2 ** 20;
  const wakeMs: number[] = [];
  for (const [i, sb] of held.entries()) {
    const t0 = performance.now();
    const r = await sb.run('print(x)');
    if (hibernate) wakeMs.push(performance.now() - t0);
    if (r.stdout !== `${i}\n`) throw new Error(`unexpected output ${JSON.stringify(r)}`);
  }
  held.forEach((sb) => sb.dispose());
  return { perMiB, parkMs, wakeMs };
}

async function cpuPrograms(runs: number): Promise<{ name: string; sandboxMs: number; python3Ms: number | null; ok: boolean }[]> {
  const out = [];
  for (const file of readdirSync(PROGRAMS).filter((f) => f.endsWith('.py')).sort()) {
    const code = readFileSync(join(PROGRAMS, file), 'utf8');
    const sb = await Sandbox.create({ engine: 'cpython', limits: { fuel: Infinity, timeoutMs: 600_000, memoryBytes: 512 * 2 ** 20 } });
    const times: number[] = [];
    let ok = true;
    let stdout = '';
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await sb.run(code);
      times.push(performance.now() - t0);
      ok &&= r.ok;
      stdout = r.stdout;
    }
    sb.dispose();
    const native = await runPython3(code, runs, file);
    const same = native.status === 'ok' ? native.stdout === stdout : true;
    out.push({ name: file, sandboxMs: median(times), python3Ms: native.status === 'ok' ? median(native.times) : null, ok: ok && same });
  }
  return out;
}

async function pyodideLoad(): Promise<number | null> {
  try {
    const require = createRequire(import.meta.url);
    const { loadPyodide } = (await import(require.resolve('pyodide/pyodide.mjs'))) as { loadPyodide: () => Promise<{ runPython(c: string): unknown }> };
    const t0 = performance.now();
    const py = await loadPyodide();
    py.runPython('1+1');
    return performance.now() - t0;
  } catch (e) {
    console.log(`pyodide: loadPyodide failed (${(e as Error).message})`);
    return null;
  }
}

const t0 = performance.now();
const template = cpythonTemplate();
console.log(`template: ${template.source} in ${ms(performance.now() - t0)}, ${(templateBytes() / 2 ** 20).toFixed(1)} MiB of non-zero state`);
await freshLatency(3); // warm-up: V8 tiers up the instance creation path
const fresh = await freshLatency(quick ? 10 : 30);
console.log(`fresh sandbox (create + print(1+1) + dispose): median ${ms(median(fresh))}, p90 ${ms(percentile(fresh, 90))}, n=${fresh.length}`);
// The same once V8 has compiled CPython's hot functions in the background (the first few dozen
// sandboxes of a process run while it does): what a long-lived process's sandboxes cost.
await freshLatency(quick ? 10 : 20);
const steady = await freshLatency(quick ? 10 : 50);
console.log(`fresh sandbox after ${quick ? 23 : 53} before it: median ${ms(median(steady))}, p90 ${ms(percentile(steady, 90))}, n=${steady.length}`);
const awake = await rssPerSession(quick ? 5 : 20, false);
console.log(`RSS per idle session: ${awake.perMiB.toFixed(2)} MiB awake`);
const parked = await rssPerSession(quick ? 5 : 20, true);
console.log(
  `RSS per idle session: ${parked.perMiB.toFixed(2)} MiB hibernated (hibernateAfterMs, sb.hibernate()); ` +
    `to hibernate: median ${ms(median(parked.parkMs))}; first run after: median ${ms(median(parked.wakeMs))}, p90 ${ms(percentile(parked.wakeMs, 90))}`,
);
const cpu = await cpuPrograms(quick ? 1 : 3);
const ratios: number[] = [];
for (const p of cpu) {
  const ratio = p.python3Ms ? p.sandboxMs / p.python3Ms : NaN;
  if (Number.isFinite(ratio)) ratios.push(ratio);
  console.log(`  ${p.name.padEnd(18)} sandbox ${ms(p.sandboxMs).padStart(10)}  python3 ${p.python3Ms === null ? 'n/a' : ms(p.python3Ms).padStart(10)}  ${Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : ''}${p.ok ? '' : '  (output differs or failed)'}`);
}
if (ratios.length) console.log(`CPU programs, metered vs python3: geomean ${Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length).toFixed(2)}x`);
const pyodideMs = await pyodideLoad();
if (pyodideMs !== null) console.log(`pyodide loadPyodide(): ${ms(pyodideMs)} (${(pyodideMs / median(fresh)).toFixed(0)}x the fresh CPython sandbox)`);
