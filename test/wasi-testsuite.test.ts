// The official WASI preview1 test suite (../shared/wasi-testsuite), run as its specification.md
// describes. Every case must pass; the suite data is outside the repository, so without it this
// file skips with the reason.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runCase, SUITE_DIR, suiteCases } from './support/wasi-suite.js';

const present = existsSync(SUITE_DIR);

test('the official WASI preview1 suite passes (72 tests)', { skip: present ? false : `no ${SUITE_DIR}`, timeout: 600_000 }, async () => {
  const cases = suiteCases();
  assert.equal(cases.length, 72, 'the suite has 72 preview1 tests');
  const failures: string[] = [];
  for (const c of cases) {
    const problem = await runCase(c);
    if (problem) failures.push(`${c.name}: ${problem.split('\n').slice(0, 3).join(' | ')}`);
  }
  assert.deepEqual(failures, []);
});
