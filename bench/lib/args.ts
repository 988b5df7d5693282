// Command-line options of bench/run.ts.

import { parseArgs } from 'node:util';
import { PROGRAM_SETS, type ProgramSet } from './programs.js';

export type StockMode = 'reuse' | 'fresh';

export interface BenchOptions {
  runs: number;
  quick: boolean;
  json?: string;
  onlyBaselines: boolean;
  programs?: string[];
  set: ProgramSet;
  stockMode: StockMode;
  stockHeap?: number;
  /** Heap of the second stock column; undefined: no second column. */
  bigStockHeap?: number;
  latencyStock: number;
  latencyPyfence: number;
  variants: string;
  python3: boolean;
  monty: boolean;
  skipLatency: boolean;
  skipCpu: boolean;
  skipPool: boolean;
}

export const USAGE = `Usage: npx tsx bench/run.ts [options]
  --runs N              timed runs per program and engine (default 10, --quick: 3)
  --quick               fewer runs / latency iterations (smoke test)
  --json FILE           also write all results as JSON
  --only-baselines      do not import pyfence (stock, python3, monty only)
  --programs a,b        only these programs (file names without .py)
  --set S               main (default: bench/programs) or held-out (bench/programs-held-out:
                        ordinary programs never tuned for)
  --stock-mode M        reuse (default): one warm stock instance per program, globals cleared
                        + gc.collect() before each run (untimed); fresh: new instance per run,
                        load untimed
  --stock-heap BYTES    MicroPython GC heap for the stock loader (stock default 1048576)
  --big-stock-heap BYTES  heap of a second stock column, and speedups against it (default
                        67108864: a heap that is never grown mid-run); --no-big-stock: no column
  --latency-stock N     fresh-sandbox iterations for stock (default 50, --quick: 10)
  --latency-pyfence N   fresh-sandbox iterations for pyfence (default 2000, --quick: 200)
  --variants a,b        pyfence variants to measure (default: default; known: default, unmetered, worker)
  --no-python3 / --no-monty   skip those baselines
  --no-latency / --no-cpu / --no-pool   skip a section
  -h, --help`;

export const DEFAULT_BIG_STOCK_HEAP = 64 * 2 ** 20;

function posInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got "${v}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      'only-baselines': { type: 'boolean', default: false },
      programs: { type: 'string' },
      set: { type: 'string', default: 'main' },
      'stock-mode': { type: 'string', default: 'reuse' },
      'stock-heap': { type: 'string' },
      'big-stock-heap': { type: 'string' },
      'no-big-stock': { type: 'boolean', default: false },
      'latency-stock': { type: 'string' },
      'latency-pyfence': { type: 'string' },
      variants: { type: 'string', default: 'default' },
      'no-python3': { type: 'boolean', default: false },
      'no-monty': { type: 'boolean', default: false },
      'no-latency': { type: 'boolean', default: false },
      'no-cpu': { type: 'boolean', default: false },
      'no-pool': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const mode = values['stock-mode'];
  if (mode !== 'reuse' && mode !== 'fresh') throw new Error(`--stock-mode must be reuse or fresh, got "${mode}"`);
  const set = values.set as ProgramSet;
  if (!PROGRAM_SETS.includes(set)) throw new Error(`--set must be one of ${PROGRAM_SETS.join(', ')}, got "${values.set}"`);
  return {
    runs: posInt('runs', values.runs, quick ? 3 : 10),
    quick,
    json: values.json,
    onlyBaselines: values['only-baselines'] ?? false,
    programs: values.programs?.split(',').map((s) => s.trim().replace(/\.py$/, '')).filter(Boolean),
    set,
    stockMode: mode,
    stockHeap: values['stock-heap'] === undefined ? undefined : posInt('stock-heap', values['stock-heap'], 0),
    bigStockHeap: values['no-big-stock'] ? undefined : posInt('big-stock-heap', values['big-stock-heap'], DEFAULT_BIG_STOCK_HEAP),
    latencyStock: posInt('latency-stock', values['latency-stock'], quick ? 10 : 50),
    latencyPyfence: posInt('latency-pyfence', values['latency-pyfence'], quick ? 200 : 2000),
    variants: values.variants ?? 'default',
    python3: !values['no-python3'],
    monty: !values['no-monty'],
    skipLatency: values['no-latency'] ?? false,
    skipCpu: values['no-cpu'] ?? false,
    skipPool: values['no-pool'] ?? false,
  };
}
