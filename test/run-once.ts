// One program in a sandbox of its own, disposed after: what a test of a build pass needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, type SandboxOptions } from '../src/index.js';
import { ROOT } from './helpers.js';

export async function runOnce(code: string, options?: SandboxOptions) {
  const sb = await Sandbox.create(options);
  try {
    return await sb.run(code);
  } finally {
    sb.dispose();
  }
}

/**
 * For a pass that must not move any object: runs test/programs/`name`, whose `layout ...` lines
 * print where its objects are (id() is an address), and asserts that its whole output has the sha256
 * the build before the pass gave, and that its other lines are python3's (when python3 is there).
 */
export async function assertSameLayoutAsBefore(name: string, expectedSha256: string): Promise<void> {
  const code = readFileSync(join(ROOT, 'test/programs', name), 'utf8');
  const r = await runOnce(code);
  r.throwIfError();
  assert.equal(createHash('sha256').update(r.stdout).digest('hex'), expectedSha256);
  const python3 = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  if (python3.status === 0) {
    const values = (out: string) => out.split('\n').filter((l) => !l.startsWith('layout '));
    assert.deepEqual(values(r.stdout), values(python3.stdout));
  }
}
