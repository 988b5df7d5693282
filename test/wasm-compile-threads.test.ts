// How many threads V8 may use to tier a wasm module up: one core fewer than the machine has, unless
// the embedding process named the number itself (src/engine/wasm-compile-threads.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTasksFlag } from '../src/engine/wasm-compile-threads.js';

describe('wasm compile threads', () => {
  it('leaves the sandboxes\' thread a core: cores - 1, at least one', () => {
    assert.equal(compileTasksFlag([], undefined, 2), '--wasm-num-compilation-tasks=1');
    assert.equal(compileTasksFlag(['--expose-gc'], '--max-old-space-size=512', 8), '--wasm-num-compilation-tasks=7');
    assert.equal(compileTasksFlag([], '', 1), '--wasm-num-compilation-tasks=1');
  });

  it('leaves a number the process chose on its command line or in NODE_OPTIONS alone, however spelt', () => {
    assert.equal(compileTasksFlag(['--wasm-num-compilation-tasks=4'], undefined, 2), null);
    assert.equal(compileTasksFlag(['--wasm_num_compilation_tasks=16'], undefined, 2), null);
    assert.equal(compileTasksFlag([], '--expose-gc --wasm-num-compilation-tasks=3', 2), null);
    // A flag that only starts the same way is another flag.
    assert.equal(compileTasksFlag(['--wasm-num-compilation-tasks-extra=1'], undefined, 2), '--wasm-num-compilation-tasks=1');
  });
});
