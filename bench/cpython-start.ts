// `pyfence run --engine cpython -c pass` against `node -e 0`, interleaved (iteration i runs every
// row once, so load hits all rows alike): median wall and CPU time and minor page faults (what a
// fresh process pays for every page it touches first). With --baseline DIR, the same CLI of another
// checkout (built, with its dist/) as a row of its own, for before/after figures from one run.
// Needs /usr/bin/time (GNU) for CPU time and faults. Run: node --import tsx bench/cpython-start.ts [--runs N] [--baseline DIR]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './lib/stats.js';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : null;
};
const RUNS = Number(arg('--runs') ?? 15);
const cliOf = (root: string) => join(root, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin.pyfence);

const rows: { name: string; argv: string[] }[] = [{ name: 'node -e 0', argv: ['-e', '0'] }];
const baseline = arg('--baseline');
if (baseline) rows.push({ name: `baseline (${baseline})`, argv: [cliOf(baseline), 'run', '--engine', 'cpython', '-c', 'pass'] });
rows.push({ name: 'pyfence run --engine cpython -c pass', argv: [cliOf(ROOT), 'run', '--engine', 'cpython', '-c', 'pass'] });

interface Sample {
  wallMs: number;
  cpuMs: number;
  faults: number;
}
const samples = rows.map((): Sample[] => []);
for (let i = 0; i < RUNS; i++) {
  rows.forEach((row, r) => {
    const t0 = performance.now();
    const p = spawnSync('/usr/bin/time', ['-f', '%U %S %R', process.execPath, ...row.argv], { encoding: 'utf8', cwd: ROOT });
    const wallMs = performance.now() - t0;
    if (p.status !== 0) throw new Error(`${row.name}: exit ${p.status}: ${p.stderr}`);
    const [user, sys, faults] = p.stderr.trim().split('\n').pop()!.split(' ').map(Number);
    samples[r].push({ wallMs, cpuMs: (user + sys) * 1000, faults });
  });
  process.stderr.write('.');
}
process.stderr.write('\n');
const base = median(samples[0].map((s) => s.wallMs));
console.log('| command | wall ms (median) | vs node -e 0 | CPU ms | minor faults |');
console.log('| --- | --- | --- | --- | --- |');
rows.forEach((row, r) => {
  const wall = median(samples[r].map((s) => s.wallMs));
  console.log(`| ${row.name} | ${wall.toFixed(0)} | ${(wall / base).toFixed(2)}x | ${median(samples[r].map((s) => s.cpuMs)).toFixed(0)} | ${median(samples[r].map((s) => s.faults)).toFixed(0)} |`);
});
