// Load test of `pyfence serve` on loopback: many concurrent runs, a share of them hostile (endless
// loops, memory and output bombs, code that swallows the stop). Bounded: a fixed number of requests
// and an overall deadline. Reports throughput and p50/p99 latency; exits 1 if any request that should
// have succeeded did not, or a hostile one was not stopped the expected way.
// usage: npm run bench:http -- [--requests 2000] [--clients 32] [--hostile 0.1] [--concurrency N]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '32' },
    hostile: { type: 'string', default: '0.1' },
    concurrency: { type: 'string', default: String(availableParallelism()) },
    deadline: { type: 'string', default: '300' },
  },
});
const REQUESTS = Number(args.requests);
const CLIENTS = Number(args.clients);
const HOSTILE = Number(args.hostile);
const DEADLINE_MS = Number(args.deadline) * 1000;
const TOKEN = 'bench-token';
// Server limits: small enough that hostile runs end quickly, as a shared service would set them.
const SERVER_FLAGS = ['--fuel', '2e8', '--timeout', '2s', '--memory', '32MiB', '--max-output', '64KiB'];

const program = (name: string) => readFileSync(new URL(`./http-load/${name}.py`, import.meta.url), 'utf8');
interface Kind {
  name: string;
  code: string;
  hostile: boolean;
  /** The error kinds that count as handled correctly (null: must succeed). */
  expect: string[] | null;
}
const BENIGN: Kind[] = [
  { name: 'sum', code: program('sum'), hostile: false, expect: null },
  { name: 'words', code: program('words'), hostile: false, expect: null },
];
const HOSTILE_KINDS: Kind[] = [
  { name: 'loop', code: program('loop'), hostile: true, expect: ['fuel', 'timeout'] },
  { name: 'memory', code: program('memory'), hostile: true, expect: ['memory'] },
  { name: 'output', code: program('output'), hostile: true, expect: ['output'] },
  { name: 'swallow', code: program('swallow'), hostile: true, expect: ['fuel', 'timeout'] },
];

function startServer(): Promise<{ url: string; stop: () => void }> {
  const cli = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const flags = ['serve', '--port', '0', '--token', TOKEN, '--concurrency', args.concurrency!, '--max-queue', String(CLIENTS), ...SERVER_FLAGS];
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...flags], { stdio: ['ignore', 'inherit', 'pipe'] });
  process.on('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
      const m = /listening on (http:\S+)/.exec(err);
      if (m) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${err}`)));
  });
}

interface Outcome {
  kind: Kind;
  ms: number;
  status: number;
  correct: boolean;
  detail: string;
}

async function one(url: string, kind: Kind): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const r = await fetch(`${url}/v1/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: kind.code }),
    });
    const body = await r.json();
    const ms = performance.now() - t0;
    const errorKind: string | undefined = body.error?.kind;
    const correct = r.status === 200 && (kind.expect === null ? body.ok === true : kind.expect.includes(errorKind ?? ''));
    return { kind, ms, status: r.status, correct, detail: r.status === 200 ? (errorKind ?? 'ok') : body.error?.type };
  } catch (e) {
    return { kind, ms: performance.now() - t0, status: 0, correct: false, detail: (e as Error).message };
  }
}

/** A fixed, interleaved mix: every 1/HOSTILE-th request is hostile, cycling through the hostile kinds. */
function workload(): Kind[] {
  const every = HOSTILE > 0 ? Math.round(1 / HOSTILE) : Infinity;
  return Array.from({ length: REQUESTS }, (_, i) => (i % every === every - 1 ? HOSTILE_KINDS[Math.floor(i / every) % HOSTILE_KINDS.length] : BENIGN[i % BENIGN.length]));
}

async function main(): Promise<number> {
  const server = await startServer();
  const jobs = workload();
  // Warm-up (untimed): every worker thread's first run pays for compiling the module.
  await Promise.all(Array.from({ length: Number(args.concurrency) * 2 }, () => one(server.url, BENIGN[0])));
  const outcomes: Outcome[] = [];
  let next = 0;
  const deadline = Date.now() + DEADLINE_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < jobs.length && Date.now() < deadline) outcomes.push(await one(server.url, jobs[next++]));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  server.stop();

  const line = (label: string, xs: Outcome[]) => {
    const ms = xs.map((o) => o.ms);
    return `| ${label} | ${xs.length} | ${percentile(ms, 50).toFixed(1)} | ${percentile(ms, 99).toFixed(1)} | ${xs.filter((o) => !o.correct).length} |`;
  };
  const benign = outcomes.filter((o) => !o.kind.hostile);
  const hostile = outcomes.filter((o) => o.kind.hostile);
  console.log(`pyfence serve on loopback: ${outcomes.length} requests from ${CLIENTS} clients, ${args.concurrency} worker threads, ${availableParallelism()} cores, hostile share ${HOSTILE}`);
  console.log(`server limits: ${SERVER_FLAGS.join(' ')}`);
  console.log(`throughput: ${(outcomes.length / seconds).toFixed(1)} requests/s over ${seconds.toFixed(1)} s`);
  console.log('\n| requests | n | p50 ms | p99 ms | wrong |\n| --- | --- | --- | --- | --- |');
  console.log(line('all', outcomes));
  console.log(line('benign', benign));
  console.log(line('hostile', hostile));
  for (const k of HOSTILE_KINDS) console.log(line(`hostile: ${k.name}`, hostile.filter((o) => o.kind === k)));
  const statuses = new Map<string, number>();
  for (const o of outcomes) statuses.set(`${o.status} ${o.detail}`, (statuses.get(`${o.status} ${o.detail}`) ?? 0) + 1);
  console.log(`\noutcomes: ${[...statuses].map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  const wrong = outcomes.filter((o) => !o.correct);
  for (const o of wrong.slice(0, 10)) console.log(`WRONG: ${o.kind.name} -> ${o.status} ${o.detail}`);
  if (outcomes.length < jobs.length) console.log(`DEADLINE: only ${outcomes.length} of ${jobs.length} requests finished`);
  return wrong.length === 0 && outcomes.length === jobs.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
