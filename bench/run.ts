// pyfence benchmark entry point:  npx tsx bench/run.ts [--runs N] [--quick] [--json out.json]
// See bench/lib/args.ts (or --help) for all options and bench/README.md for methodology.

import { writeFileSync } from 'node:fs';
import { parseOptions } from './lib/args.js';
import { benchProgram, type CpuContext } from './lib/cpu.js';
import { pyfenceLatency, stockLatency } from './lib/latency.js';
import { loadMonty } from './lib/monty.js';
import { loadPrograms } from './lib/programs.js';
import { benchPool, renderPool, type PoolReport } from './lib/pool.js';
import { loadPyfence, parseVariants, type SandboxClass } from './lib/pyfence.js';
import { python3Version } from './lib/python3.js';
import { machineInfo, renderMarkdown, speedup, type BenchReport } from './lib/report.js';
import { fmtMs, geomean } from './lib/stats.js';

const log = (msg: string) => process.stderr.write(`${msg}\n`);

async function main(): Promise<number> {
  const opt = parseOptions(process.argv.slice(2));
  let variants = parseVariants(opt.variants);
  const programs = loadPrograms(opt.programs, opt.set);
  const notes: string[] = [];
  const failures: string[] = [];

  let Sandbox: SandboxClass | undefined;
  if (opt.onlyBaselines) notes.push('--only-baselines: pyfence not measured');
  else {
    const pf = await loadPyfence();
    if (pf.status === 'ok') {
      const S = pf.Sandbox;
      Sandbox = S;
      for (const v of variants) {
        const why = v.unavailable?.(S);
        if (why) notes.push(`variant ${v.name} skipped: ${why}`);
      }
      variants = variants.filter((v) => !v.unavailable?.(S));
    } else {
      notes.push(pf.note);
      log(`note: ${pf.note}`);
    }
  }
  const py3 = opt.python3 ? await python3Version() : undefined;
  if (opt.python3 && !py3) notes.push('python3 not found on PATH — python3 column skipped');
  if (opt.monty && !(await loadMonty())) notes.push('@pydantic/monty could not be loaded — monty column skipped');
  const stockOptions = opt.stockHeap ? { heapsize: opt.stockHeap } : {};

  const report: BenchReport = {
    machine: machineInfo(py3),
    settings: {
      runs: opt.runs,
      programs: opt.set,
      stockMode: opt.stockMode,
      stockHeap: opt.stockHeap ?? 'default (1 MiB)',
      bigStockHeap: opt.bigStockHeap ?? 'none',
      pyfence: Sandbox ? 'yes' : 'no',
    },
    variants: Sandbox ? variants.map((v) => v.name) : [],
    latency: [],
    programs: [],
    geomeanSpeedup: {},
    geomeanSpeedupBig: opt.bigStockHeap ? {} : undefined,
    bigStockHeap: opt.bigStockHeap,
    notes,
    failures,
  };

  // First, while the heap is clean: the idle-session RSS measurement is part of it.
  let poolMarkdown = '';
  if (!opt.skipPool && Sandbox) {
    const pool = await benchPool(await import('../src/index.js'), loadPrograms(), opt.quick, log);
    (report as BenchReport & { pool?: PoolReport }).pool = pool;
    poolMarkdown = renderPool(pool);
  }

  if (!opt.skipLatency) {
    log(`fresh-sandbox latency: stock x${opt.latencyStock}...`);
    report.latency.push(await stockLatency(opt.latencyStock, opt.quick ? 2 : 3, stockOptions));
    if (Sandbox) {
      for (const v of variants) {
        const n = v.slowCreate ? opt.latencyStock : opt.latencyPyfence;
        log(`fresh-sandbox latency: pyfence[${v.name}] x${n}...`);
        report.latency.push(await pyfenceLatency(Sandbox, v, n, v.slowCreate ? 3 : opt.quick ? 20 : 100));
      }
    }
  }

  if (!opt.skipCpu) {
    const ctx: CpuContext = {
      runs: opt.runs,
      warmup: 1,
      stockMode: opt.stockMode,
      stockOptions,
      bigStockHeap: opt.bigStockHeap,
      Sandbox,
      variants,
      python3: opt.python3 && py3 !== undefined,
      monty: opt.monty,
    };
    for (const p of programs) {
      log(`program ${p.name}...`);
      const o = await benchProgram(p, ctx);
      report.programs.push(o.result);
      notes.push(...o.notes);
      failures.push(...o.failures);
      for (const f of o.failures) log(f);
      const r = o.result;
      log(`  stock ${fmtMs(r.stock.median)} ms, ${r.bigStock ? `stock[big heap] ${fmtMs(r.bigStock.median)} ms, ` : ''}${Object.entries(r.pyfence).map(([k, t]) => `${k} ${fmtMs(t.median)} ms`).join(', ') || 'pyfence —'}, python3 ${fmtMs(r.python3.median)} ms, monty ${r.monty.status === 'ok' ? fmtMs(r.monty.median) + ' ms' : r.monty.status}`);
    }
    for (const v of report.variants) {
      report.geomeanSpeedup[v] = geomean(report.programs.map((p) => speedup(p.stock, p.pyfence[v]) ?? NaN));
      if (report.geomeanSpeedupBig) report.geomeanSpeedupBig[v] = geomean(report.programs.map((p) => speedup(p.bigStock, p.pyfence[v]) ?? NaN));
    }
  }

  console.log(renderMarkdown(report) + (poolMarkdown ? '\n' + poolMarkdown : ''));
  if (opt.json) {
    writeFileSync(opt.json, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${opt.json}`);
  }
  if (failures.length > 0) {
    log(`\n${failures.length} FAILURE(S):`);
    for (const f of failures) log(`  ${f}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(2);
  },
);
