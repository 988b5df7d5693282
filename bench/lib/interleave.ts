// Interleaved timing of several in-process engines: iteration i runs engine A, then B, ...
// so that machine noise (other processes, thermal changes) hits all engines alike.

import { summarize, type Sample } from './stats.js';

export interface RunOutput {
  ok: boolean;
  stdout: string;
  error?: string;
}

export interface Contender {
  name: string;
  /** Untimed, before every run (e.g. create a fresh sandbox / reset an instance). */
  before?: () => void | Promise<void>;
  /** The timed part. */
  run: () => RunOutput | Promise<RunOutput>;
  /** Untimed, after every run (e.g. dispose). */
  after?: () => void | Promise<void>;
}

export interface ContenderResult {
  name: string;
  sample: Sample;
  /** Output of the first (warm-up) run. */
  first: RunOutput;
  /** True when every run produced the same stdout and ok-ness as the first one. */
  stable: boolean;
}

/** Nanoseconds now. The wall clock, or the process's CPU time: steadier on a machine shared with other work. */
export type Clock = () => bigint;
export const wallClock: Clock = () => process.hrtime.bigint();
export const cpuClock: Clock = () => {
  const { user, system } = process.cpuUsage();
  return BigInt(user + system) * 1000n;
};

export async function interleave(contenders: Contender[], runs: number, warmup = 1, clock: Clock = wallClock): Promise<ContenderResult[]> {
  const times = contenders.map(() => [] as number[]);
  const firsts: (RunOutput | undefined)[] = contenders.map(() => undefined);
  const stable = contenders.map(() => true);
  for (let i = 0; i < warmup + runs; i++) {
    for (let c = 0; c < contenders.length; c++) {
      const k = contenders[c];
      if (k.before) await k.before();
      const t0 = clock();
      let out = k.run();
      if (out instanceof Promise) out = await out;
      const t1 = clock();
      if (k.after) await k.after();
      const first = (firsts[c] ??= out);
      if (first.ok !== out.ok || first.stdout !== out.stdout) stable[c] = false;
      if (i >= warmup) times[c].push(Number(t1 - t0) / 1e6);
    }
  }
  return contenders.map((k, c) => ({ name: k.name, sample: summarize(times[c]), first: firsts[c]!, stable: stable[c] }));
}
