// How many threads V8 may use to tier a wasm module up: one core fewer than the machine has, unless
// the embedding process named the number itself (src/engine/wasm-compile-threads.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compileTasksFlag } from '../src/engine/wasm-compile-threads.js';

describe('wasm compile threads', () => {
  it('leaves the sandboxes\' thread a core: cores - 1, at least one', () => {
    assert.equal(compileTasksFlag([], 2), '--wasm-num-compilation-tasks=1');
    assert.equal(compileTasksFlag(['--expose-gc'], 8), '--wasm-num-compilation-tasks=7');
    assert.equal(compileTasksFlag([], 1), '--wasm-num-compilation-tasks=1');
  });

  it('leaves a number the process chose on its command line alone, however spelt', () => {
    assert.equal(compileTasksFlag(['--wasm-num-compilation-tasks=4'], 2), null);
    assert.equal(compileTasksFlag(['--wasm_num_compilation_tasks=16'], 2), null);
    // A flag that only starts the same way is another flag.
    assert.equal(compileTasksFlag(['--wasm-num-compilation-tasks-extra=1'], 2), '--wasm-num-compilation-tasks=1');
  });

  it('has only the command line to read: Node refuses the flag in NODE_OPTIONS', () => {
    const r = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: '--wasm-num-compilation-tasks=3' }, encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not allowed in NODE_OPTIONS/);
  });
});
