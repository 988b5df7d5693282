// The CPU benchmark programs in bench/programs/*.py.

import { readdirSync, readFileSync } from 'node:fs';

export interface Program {
  /** File name without .py */
  name: string;
  file: string;
  code: string;
}

const DIR = new URL('../programs/', import.meta.url);

export function loadPrograms(only?: string[]): Program[] {
  const all = readdirSync(DIR)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((file) => ({ name: file.slice(0, -3), file, code: readFileSync(new URL(file, DIR), 'utf8') }));
  if (!only) return all;
  const unknown = only.filter((n) => !all.some((p) => p.name === n));
  if (unknown.length) throw new Error(`unknown program(s): ${unknown.join(', ')} (have: ${all.map((p) => p.name).join(', ')})`);
  return all.filter((p) => only.includes(p.name));
}
