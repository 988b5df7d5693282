// Small statistics + timing helpers for the benchmark harness.

/** Sorted copy (ascending) of a numeric sample. */
function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** p-th percentile (0..100) with linear interpolation between closest ranks. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = sorted(xs);
  const clamped = Math.min(100, Math.max(0, p));
  const rank = (clamped / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function min(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.min(...xs);
}

/** Geometric mean of positive finite values; non-positive / non-finite values are skipped. */
export function geomean(xs: readonly number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (ok.length === 0) return NaN;
  return Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / ok.length);
}

/** Current monotonic time in milliseconds (fractional). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface Sample {
  /** Individual run times in ms, in execution order. */
  times: number[];
  median: number;
  p10: number;
  p90: number;
  min: number;
}

export function summarize(times: number[]): Sample {
  return {
    times,
    median: median(times),
    p10: percentile(times, 10),
    p90: percentile(times, 90),
    min: min(times),
  };
}

export interface SampleOptions {
  /** Untimed calls before measuring. Default 0. */
  warmup?: number;
  /** Untimed hook called before every (warm-up and timed) run, e.g. to build a fresh instance. */
  before?: () => unknown | Promise<unknown>;
  /** Untimed hook called after every run, e.g. to dispose an instance. */
  after?: () => unknown | Promise<unknown>;
}

/**
 * Runs `fn` `runs` times (awaiting it if it returns a promise) and returns all timings.
 * Only `fn` itself is timed; `before`/`after` hooks are not.
 */
export async function sample(
  fn: () => unknown | Promise<unknown>,
  runs: number,
  opts: SampleOptions = {},
): Promise<Sample> {
  const total = (opts.warmup ?? 0) + runs;
  const times: number[] = [];
  for (let i = 0; i < total; i++) {
    if (opts.before) await opts.before();
    const t0 = process.hrtime.bigint();
    const r = fn();
    if (r instanceof Promise) await r;
    const t1 = process.hrtime.bigint();
    if (opts.after) await opts.after();
    if (i >= total - runs) times.push(Number(t1 - t0) / 1e6);
  }
  return summarize(times);
}

/** Median wall time in ms of `runs` calls of `fn`. */
export async function timeIt(fn: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  return (await sample(fn, runs)).median;
}

/** Formats a ms value for tables: 3 significant-ish digits. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}
