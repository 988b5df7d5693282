// CPython snapshots: size, snapshot latency, restore latency (restore + a first run) and fork
// latency, for a few sessions from a tiny one to one that imported a module the template has not.
// Run: node --import tsx bench/cpython-snapshot.ts [--quick]
import { Sandbox } from '../src/api/sandbox.js';
import { median, percentile } from './lib/stats.js';

const N = process.argv.includes('--quick') ? 10 : 40;
const CPY = { engine: 'cpython' } as const;

const SESSIONS: Record<string, string> = {
  'x = 1': 'x = 1',
  'json + a function': 'import json\nd = {"a": [1, 2, 3]}\ndef f(n): return n * 2\nprint(json.dumps(d))',
  'a list of 10,000 ints': 'data = list(range(10000))',
  'import difflib (not preloaded)': 'import difflib',
};

const fmt = (xs: number[]) => `${median(xs).toFixed(1)} ms (p90 ${percentile(xs, 90).toFixed(1)})`;

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

console.log(`| session | snapshot bytes | snapshot | restore + print(1) | fork |`);
console.log(`|---|---|---|---|---|`);
for (const [name, code] of Object.entries(SESSIONS)) {
  const sb = await Sandbox.create(CPY);
  (await sb.run(code)).throwIfError();
  const bytes = await sb.snapshot();
  await time(() => sb.snapshot()); // warm up
  const snap = await time(() => sb.snapshot());
  const restore = await time(async () => {
    const r = await Sandbox.restore(bytes, CPY);
    (await r.run('print(1)')).throwIfError();
    r.dispose();
  });
  const fork = await time(async () => (await sb.fork()).dispose());
  sb.dispose();
  console.log(`| ${name} | ${bytes.length} | ${fmt(snap)} | ${fmt(restore)} | ${fmt(fork)} |`);
}
