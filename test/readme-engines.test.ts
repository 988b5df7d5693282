// README's engine table says what test/support/engines.ts declares, which the behaviour suite
// (test/engine-*.test.ts) asserts per engine: the table cannot drift from what the engines do.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.js';
import { DECLARED, ENGINES, type Declared } from './support/engines.js';

/** The table's rows, by the start of their first cell, and what each cell must say for a declaration. */
const ROWS: [start: string, says: (d: Declared, cell: string) => boolean][] = [
  ['soft stop', (d, cell) => cell.startsWith(d.softStop ? 'yes' : 'no')],
  ['sessions', (d, cell) => cell.startsWith(d.sessions ? 'yes' : 'no')],
  ['interrupt', (d, cell) => cell.startsWith(d.interrupt ? 'yes' : 'no')],
  ['memory past the cap', (d, cell) => (d.memoryCap === 'error' ? cell.includes('MemoryError') : cell.includes('answers -1'))],
];

test("README's engine table matches what each engine declares", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const header = readme.split('\n').find((line) => line.startsWith('| |') && ENGINES.every((e) => line.includes(`\`${e}\``)));
  assert.ok(header, 'README has a table with a column per engine');
  const columns = header.split('|').slice(2, -1).map((cell) => ENGINES.find((e) => cell.includes(`\`${e}\``)));
  assert.deepEqual(columns, [...ENGINES]);
  for (const [start, says] of ROWS) {
    const row = readme.split('\n').find((line) => line.startsWith(`| ${start}`));
    assert.ok(row, `README's engine table has a "${start}" row`);
    const cells = row.split('|').slice(2, -1).map((cell) => cell.trim());
    ENGINES.forEach((engine, i) => assert.ok(says(DECLARED[engine], cells[i]), `${start} (${engine}): "${cells[i]}"`));
  }
});
