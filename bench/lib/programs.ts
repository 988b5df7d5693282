// The CPU benchmark programs: bench/programs/*.py (the set the project has measured and optimised
// against) and bench/programs-held-out/*.py (ordinary programs written later and never tuned for, to
// tell a general speed-up from one fitted to the first set).

import { readdirSync, readFileSync } from 'node:fs';

export interface Program {
  /** File name without .py */
  name: string;
  file: string;
  code: string;
}

export type ProgramSet = 'main' | 'held-out';
export const PROGRAM_SETS: readonly ProgramSet[] = ['main', 'held-out'];
const DIRS: Record<ProgramSet, URL> = {
  main: new URL('../programs/', import.meta.url),
  'held-out': new URL('../programs-held-out/', import.meta.url),
};

export function loadPrograms(only?: string[], set: ProgramSet = 'main'): Program[] {
  const dir = DIRS[set];
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((file) => ({ name: file.slice(0, -3), file, code: readFileSync(new URL(file, dir), 'utf8') }));
  if (!only) return all;
  const unknown = only.filter((n) => !all.some((p) => p.name === n));
  if (unknown.length) throw new Error(`unknown program(s): ${unknown.join(', ')} (have: ${all.map((p) => p.name).join(', ')})`);
  return all.filter((p) => only.includes(p.name));
}
