// One CPU program across all engines: stock and pyfence variants interleaved in-process,
// then python3 (separate process, self-timed) and monty (in-process).

import { interleave, type Contender, type RunOutput } from './interleave.js';
import { runMonty } from './monty.js';
import { runPython3 } from './python3.js';
import { variantLabel, type SandboxClass, type SandboxLike, type Variant } from './pyfence.js';
import type { EngineTiming, ProgramResult } from './report.js';
import { summarize } from './stats.js';
import { StockSession, type StockOptions } from './stock.js';
import type { StockMode } from './args.js';
import type { Program } from './programs.js';

export interface CpuContext {
  runs: number;
  warmup: number;
  stockMode: StockMode;
  stockOptions: StockOptions;
  /** A second stock column at this heap size (the stock loader with a 64 MiB heap, say). */
  bigStockHeap?: number;
  Sandbox?: SandboxClass;
  variants: Variant[];
  python3: boolean;
  monty: boolean;
}

function stockContender(code: string, ctx: CpuContext, options: StockOptions, name = 'stock'): Contender {
  let session: StockSession | undefined;
  return {
    name,
    before: async () => {
      if (ctx.stockMode === 'fresh' || !session) session = await StockSession.load(options);
      else session.reset();
    },
    run: () => session!.run(code),
  };
}

function errorText(e: unknown): string | undefined {
  if (e === undefined || e === null) return undefined;
  if (typeof e === 'string') return e;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  const info = e as { type?: unknown; message?: unknown };
  if (typeof info.type === 'string' && typeof info.message === 'string') return `${info.type}: ${info.message}`;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

function pyfenceContender(code: string, Sandbox: SandboxClass, v: Variant): Contender {
  let sb: SandboxLike | undefined;
  return {
    name: v.name,
    before: async () => {
      sb = await v.create(Sandbox);
    },
    run: async (): Promise<RunOutput> => {
      const r = await sb!.run(code);
      return { ok: r.ok, stdout: r.stdout, error: r.ok ? undefined : (errorText(r.error) ?? r.stderr) };
    },
    after: async () => {
      await sb?.dispose();
      sb = undefined;
    },
  };
}

/** First differing line, for MISMATCH messages. */
export function firstDiff(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}: stock ${JSON.stringify(al[i] ?? '<eof>')} vs ${JSON.stringify(bl[i] ?? '<eof>')}`;
  }
  return 'identical';
}

export interface CpuOutcome {
  result: ProgramResult;
  failures: string[];
  notes: string[];
}

export async function benchProgram(p: Program, ctx: CpuContext): Promise<CpuOutcome> {
  const failures: string[] = [];
  const notes: string[] = [];
  const contenders = [stockContender(p.code, ctx, ctx.stockOptions)];
  if (ctx.bigStockHeap) contenders.push(stockContender(p.code, ctx, { ...ctx.stockOptions, heapsize: ctx.bigStockHeap }, 'bigStock'));
  if (ctx.Sandbox) for (const v of ctx.variants) contenders.push(pyfenceContender(p.code, ctx.Sandbox, v));
  const [stockRes, ...rest] = await interleave(contenders, ctx.runs, ctx.warmup);
  const bigRes = ctx.bigStockHeap ? rest.shift() : undefined;
  const pfRes = rest;

  const stockOut = stockRes.first;
  const stock: EngineTiming = stockOut.ok
    ? { status: 'ok', ...pick(stockRes.sample) }
    : { status: 'error', note: stockOut.error };
  if (!stockOut.ok) failures.push(`${p.name}: stock MicroPython raised ${stockOut.error}`);
  if (!stockRes.stable) notes.push(`${p.name}: stock output varied between runs`);
  let bigStock: EngineTiming | undefined;
  if (bigRes) {
    const same = bigRes.first.ok && bigRes.first.stdout === stockOut.stdout;
    bigStock = same ? { status: 'ok', sameOutputAsStock: true, ...pick(bigRes.sample) } : { status: 'error', note: bigRes.first.error };
    if (!same) failures.push(`${p.name}: stock with a ${ctx.bigStockHeap}-byte heap ${bigRes.first.ok ? 'printed something else' : `raised ${bigRes.first.error}`}`);
  }

  const pyfence: Record<string, EngineTiming> = {};
  for (const r of pfRes) {
    const label = variantLabel(r.name);
    const same = r.first.ok && r.first.stdout === stockOut.stdout;
    if (!r.first.ok) {
      pyfence[r.name] = { status: 'mismatch', note: r.first.error, sameOutputAsStock: false };
      failures.push(`MISMATCH ${p.name}: ${label} failed: ${r.first.error ?? '(no error text)'}`);
    } else if (!same) {
      pyfence[r.name] = { status: 'mismatch', sameOutputAsStock: false };
      failures.push(`MISMATCH ${p.name}: ${label} stdout differs from stock, ${firstDiff(stockOut.stdout, r.first.stdout)}`);
    } else {
      pyfence[r.name] = { status: 'ok', sameOutputAsStock: true, ...pick(r.sample) };
    }
    if (!r.stable) failures.push(`MISMATCH ${p.name}: ${label} output varied between runs`);
  }

  let python3: EngineTiming = { status: 'skipped' };
  if (ctx.python3) {
    const r = await runPython3(p.code, ctx.runs + ctx.warmup, p.file);
    if (r.status === 'ok') {
      python3 = { status: 'ok', ...pick(summarize(r.times.slice(ctx.warmup))), sameOutputAsStock: r.stdout === stockOut.stdout };
      if (!python3.sameOutputAsStock) notes.push(`${p.name}: python3 output differs from stock, ${firstDiff(stockOut.stdout, r.stdout ?? '')}`);
    } else python3 = { status: r.status, note: r.error };
    if (r.status === 'error') notes.push(`${p.name}: python3 failed: ${r.error}`);
  }

  let monty: EngineTiming = { status: 'skipped' };
  if (ctx.monty) {
    const r = await runMonty(p.code, ctx.runs, ctx.warmup, p.file);
    if (r.status === 'ok') {
      monty = { status: 'ok', ...pick(summarize(r.times)), sameOutputAsStock: r.stdout === stockOut.stdout };
      if (!monty.sameOutputAsStock) notes.push(`${p.name}: monty output differs from stock, ${firstDiff(stockOut.stdout, r.stdout ?? '')}`);
    } else {
      monty = { status: r.status === 'error' ? 'unsupported' : r.status, note: r.error };
      if (r.error) notes.push(`${p.name}: monty cannot run it — ${r.error}`);
    }
  }

  return { result: { program: p.name, stock, bigStock, pyfence, python3, monty, stockStdout: stockOut.stdout }, failures, notes };
}

function pick(s: { median: number; p10: number; p90: number; times: number[] }) {
  return { median: s.median, p10: s.p10, p90: s.p90, times: s.times };
}
