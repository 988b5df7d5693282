// Result types and the Markdown rendering of a benchmark run.

import os from 'node:os';
import { readFileSync } from 'node:fs';
import { fmtMs, fmtRatio, geomean } from './stats.js';
import { fmtMem, type MemSnapshot } from './mem.js';
import { variantLabel } from './pyfence.js';

export type Status = 'ok' | 'unsupported' | 'error' | 'absent' | 'skipped' | 'mismatch';

export interface EngineTiming {
  status: Status;
  median?: number;
  p10?: number;
  p90?: number;
  times?: number[];
  /** Failure reason / remark. */
  note?: string;
  /** stdout identical to stock MicroPython's (undefined when not comparable). */
  sameOutputAsStock?: boolean;
}

export interface ProgramResult {
  program: string;
  stock: EngineTiming;
  /** The stock loader with a larger heap (`--big-stock-heap`), when measured. */
  bigStock?: EngineTiming;
  /** Keyed by variant name. */
  pyfence: Record<string, EngineTiming>;
  python3: EngineTiming;
  monty: EngineTiming;
  stockStdout: string;
}

export interface LatencyResult {
  engine: string;
  iterations: number;
  median: number;
  p10: number;
  p90: number;
  /** Memory growth over the whole loop, measured after a forced GC. */
  memDelta?: MemSnapshot;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  python3?: string;
  micropythonPkg?: string;
  montyPkg?: string;
  date: string;
}

export interface BenchReport {
  machine: MachineInfo;
  settings: Record<string, unknown>;
  variants: string[];
  latency: LatencyResult[];
  programs: ProgramResult[];
  /** Geometric mean of stock/pyfence per variant. */
  geomeanSpeedup: Record<string, number>;
  /** The same against the large-heap stock column, when measured. */
  geomeanSpeedupBig?: Record<string, number>;
  /** Heap size of the large-heap stock column, in bytes. */
  bigStockHeap?: number;
  notes: string[];
  failures: string[];
}

function pkgVersion(name: string): string | undefined {
  try {
    const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function machineInfo(python3?: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    os: `${os.platform()} ${os.release()} (${os.arch()})`,
    node: process.version,
    python3,
    micropythonPkg: pkgVersion('@micropython/micropython-webassembly-pyscript'),
    montyPkg: pkgVersion('@pydantic/monty'),
    date: new Date().toISOString(),
  };
}

function cell(t: EngineTiming | undefined): string {
  if (!t) return '—';
  switch (t.status) {
    case 'ok':
      return t.sameOutputAsStock === false ? `${fmtMs(t.median)}*` : fmtMs(t.median);
    case 'unsupported':
      return 'n/s';
    case 'error':
      return 'error';
    case 'mismatch':
      return `MISMATCH`;
    default:
      return '—';
  }
}

export function speedup(stock: EngineTiming | undefined, other: EngineTiming | undefined): number | undefined {
  if (!stock || !other || stock.status !== 'ok' || other.status !== 'ok') return undefined;
  return (stock.median ?? NaN) / (other.median ?? NaN);
}

export function renderMarkdown(r: BenchReport): string {
  const L: string[] = [];
  const m = r.machine;
  L.push('## Environment', '');
  L.push(`- CPU: ${m.cpu} (${m.cores} logical cores)`);
  L.push(`- OS: ${m.os}; Node ${m.node}; python3 ${m.python3 ?? 'absent'}`);
  L.push(`- stock: @micropython/micropython-webassembly-pyscript ${m.micropythonPkg ?? '?'}; monty: @pydantic/monty ${m.montyPkg ?? '?'}`);
  L.push(`- date: ${m.date}`);
  L.push(`- settings: ${Object.entries(r.settings).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  L.push('');

  if (r.latency.length > 0) {
    const stock = r.latency.find((x) => x.engine === 'stock');
    L.push('## Fresh sandbox latency (create + `print(1+1)` + dispose)', '');
    L.push('| engine | iterations | median ms | p10 ms | p90 ms | speedup vs stock | memory growth (after GC) |');
    L.push('|---|---:|---:|---:|---:|---:|---|');
    for (const x of r.latency) {
      const sp = stock && x !== stock ? fmtRatio(stock.median / x.median) : '1.00×';
      L.push(
        `| ${x.engine} | ${x.iterations} | ${fmtMs(x.median)} | ${fmtMs(x.p10)} | ${fmtMs(x.p90)} | ${sp} | ${x.memDelta ? fmtMem(x.memDelta) : '—'} |`,
      );
    }
    L.push('');
  }

  if (r.programs.length > 0) {
    const vs = r.variants;
    const big = r.bigStockHeap ? `${r.bigStockHeap / 2 ** 20} MiB` : undefined;
    const speedups = (v: string) => {
      const tag = v === 'default' ? '' : `[${v}]`;
      return big ? [`speedup${tag}`, `vs ${big}${tag}`] : [`speedup${tag}`];
    };
    const head = ['program', 'stock ms', ...(big ? [`stock ${big} ms`] : []), ...vs.flatMap((v) => [`${variantLabel(v)} ms`, ...speedups(v)]), 'python3 ms', 'monty ms'];
    L.push('## CPU programs (median wall ms per run; compile + execute)', '');
    L.push(`| ${head.join(' | ')} |`);
    L.push(`|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const p of r.programs) {
      const row = [p.program, cell(p.stock), ...(big ? [cell(p.bigStock)] : [])];
      for (const v of vs) {
        row.push(cell(p.pyfence[v]), fmtRatio(speedup(p.stock, p.pyfence[v])));
        if (big) row.push(fmtRatio(speedup(p.bigStock, p.pyfence[v])));
      }
      row.push(cell(p.python3), cell(p.monty));
      L.push(`| ${row.join(' | ')} |`);
    }
    if (vs.length > 0) {
      const geo = ['**geomean**', '', ...(big ? [''] : [])];
      for (const v of vs) {
        geo.push('', `**${fmtRatio(r.geomeanSpeedup[v])}**`);
        if (big) geo.push(`**${fmtRatio(r.geomeanSpeedupBig?.[v])}**`);
      }
      geo.push('', '');
      L.push(`| ${geo.join(' | ')} |`);
    }
    L.push('');
    L.push((big ? `vs ${big} = stock ${big} ms / pyfence ms. ` : '') + 'speedup = stock ms / pyfence ms. `n/s` = not supported by that engine; `*` = output differs from stock MicroPython.');
    L.push('');
  }

  const overhead = meteringOverhead(r);
  if (overhead) L.push(overhead);

  if (r.notes.length > 0) {
    L.push('### Notes', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  if (r.failures.length > 0) {
    L.push('### FAILURES', '');
    for (const f of r.failures) L.push(`- ${f}`);
    L.push('');
  }
  return L.join('\n');
}

/** Metered vs unmetered time per program, when both variants ran. */
function meteringOverhead(r: BenchReport): string | undefined {
  if (!r.variants.includes('default') || !r.variants.includes('unmetered')) return undefined;
  const L = ['## Metering overhead per program (same run)', '', '| program | unmetered ms | metered ms | overhead |', '| --- | ---: | ---: | ---: |'];
  const ratios: number[] = [];
  for (const p of r.programs) {
    const [m, u] = [p.pyfence.default, p.pyfence.unmetered];
    const ratio = speedup(m, u); // unmetered speedup over metered = metered ms / unmetered ms
    if (ratio !== undefined) ratios.push(ratio);
    L.push(`| ${p.program} | ${cell(u)} | ${cell(m)} | ${ratio === undefined ? '—' : fmtPct(ratio)} |`);
  }
  L.push(`| **geomean** | | | **${fmtPct(geomean(ratios))}** |`, '');
  return L.join('\n');
}

const fmtPct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${Math.round((ratio - 1) * 100)}%`;
