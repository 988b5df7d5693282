// Pool and scale measurements: warm-pool latency of run('1+1'), fresh-sandbox throughput of worker
// pools of 1 and 2 threads on the CPU programs, and host RSS per idle session.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Program } from './programs.js';
import { median, percentile } from './stats.js';

export interface PoolReport {
  latency: { pool: string; runs: number; p50us: number; p90us: number }[];
  throughput: { workers: number; runs: number; runsPerSec: number[]; median: number }[];
  throughputRatio: number;
  idle: { sessions: number; rssPerSessionKiB: number; heapPerSessionKiB: number }[];
}

type PyfenceModule = typeof import('../../src/index.js');

async function poolLatency(pf: PyfenceModule, isolation: 'inline' | 'worker', runs: number) {
  const pool = new pf.Pool({ isolation, size: isolation === 'inline' ? 4 : 1 });
  await pool.ready();
  const times: number[] = [];
  for (let i = 0; i < runs + 200; i++) {
    const t = performance.now();
    const r = await pool.run('1+1');
    const dt = performance.now() - t;
    if (!r.ok) throw new Error(`pool run failed: ${JSON.stringify(r.error)}`);
    if (i >= 200) times.push(dt * 1000); // the first runs warm up V8 and the pool
    await nextTurn(); // requests arrive as separate events; the pool replenishes in between
  }
  await pool.close();
  return { pool: isolation, runs, p50us: median(times), p90us: percentile(times, 90) };
}

async function poolThroughput(pf: PyfenceModule, workers: number, programs: Program[], rounds: number, reps: number) {
  const rates: number[] = [];
  const jobs = programs.flatMap((p) => Array.from({ length: rounds }, () => p.code));
  for (let rep = 0; rep < reps; rep++) {
    const pool = new pf.Pool({ isolation: 'worker', size: workers });
    await pool.ready();
    await Promise.all(programs.flatMap((p) => Array.from({ length: workers }, () => pool.run(p.code)))); // warm-up, untimed
    const t = performance.now();
    const results = await Promise.all(jobs.map((code) => pool.run(code)));
    const seconds = (performance.now() - t) / 1000;
    await pool.close();
    for (const r of results) if (!r.ok) throw new Error(`throughput run failed: ${JSON.stringify(r.error)}`);
    rates.push(jobs.length / seconds);
  }
  return { workers, runs: jobs.length, runsPerSec: rates, median: median(rates) };
}

async function idleSessions(pf: PyfenceModule, count: number) {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const held = [];
  for (let i = 0; i < count; i++) {
    const sb = await pf.Sandbox.create();
    (await sb.run('x = 1')).throwIfError();
    held.push(sb);
  }
  gc?.();
  const after = process.memoryUsage();
  for (const sb of held) sb.dispose();
  return {
    sessions: count,
    rssPerSessionKiB: (after.rss - before.rss) / count / 1024,
    heapPerSessionKiB: (after.heapUsed + after.external - before.heapUsed - before.external) / count / 1024,
  };
}

export async function benchPool(pf: PyfenceModule, programs: Program[], quick: boolean, log: (m: string) => void): Promise<PoolReport> {
  log('RSS per idle session...');
  const idle = [await idleSessions(pf, quick ? 200 : 1000)];
  log('warm-pool latency (inline, worker)...');
  const latency = [await poolLatency(pf, 'inline', quick ? 500 : 3000), await poolLatency(pf, 'worker', quick ? 100 : 500)];
  // CPU programs that take long enough for parallelism to show, each run in a fresh sandbox.
  const cpu = programs.filter((p) => ['loops', 'mandelbrot', 'recursion', 'sort'].includes(p.name));
  const rounds = quick ? 2 : 8; // enough runs that the last ones, on one worker alone, weigh little
  const reps = quick ? 1 : 3;
  log('fresh-sandbox throughput, worker pools of 1 and 2...');
  const throughput = [await poolThroughput(pf, 1, cpu, rounds, reps), await poolThroughput(pf, 2, cpu, rounds, reps)];
  return { latency, throughput, throughputRatio: throughput[1].median / throughput[0].median, idle };
}

export function renderPool(r: PoolReport): string {
  const L: string[] = [];
  L.push('## Pool: warm latency of `run("1+1")` (a fresh interpreter per run)', '');
  L.push('| pool | runs | p50 µs | p90 µs |', '|---|---:|---:|---:|');
  for (const x of r.latency) L.push(`| ${x.pool} | ${x.runs} | ${x.p50us.toFixed(1)} | ${x.p90us.toFixed(1)} |`);
  L.push('', '## Pool: fresh-sandbox throughput on CPU programs (loops, mandelbrot, recursion, sort)', '');
  L.push('| workers | runs per rep | runs/s (each rep) | median runs/s |', '|---:|---:|---|---:|');
  for (const x of r.throughput) {
    L.push(`| ${x.workers} | ${x.runs} | ${x.runsPerSec.map((v) => v.toFixed(2)).join(', ')} | ${x.median.toFixed(2)} |`);
  }
  L.push('', `2 workers / 1 worker: **${r.throughputRatio.toFixed(2)}×**`, '');
  L.push('## Idle sessions (inline sandboxes held at once, after one small run each)', '');
  L.push('| sessions | RSS per session | JS heap + external per session |', '|---:|---:|---:|');
  for (const x of r.idle) L.push(`| ${x.sessions} | ${x.rssPerSessionKiB.toFixed(0)} KiB | ${x.heapPerSessionKiB.toFixed(0)} KiB |`);
  L.push('');
  return L.join('\n');
}
