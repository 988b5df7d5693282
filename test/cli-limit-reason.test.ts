// The CLI's report of a limit stop: the one-line reason the README promises.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cli } from './helpers.js';

describe('CLI: a limit stop', () => {
  it('prints its one-line reason, not the KeyboardInterrupt that carried it', () => {
    const r = cli(['run', '--timeout', '300ms', '-c', 'while True:\n    pass']);
    assert.equal(r.status, 4);
    assert.equal(r.stderr, 'pyfence: timeout: time limit of 300 ms exceeded\n');
  });
});
