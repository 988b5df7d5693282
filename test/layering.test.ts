// The layering the README's table states, checked on the import statements of src/: no folder imports
// one above it, only the engine registry names an engine, and no file imports its way back into itself.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');

function sources(): string[] {
  return (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.split('\\').join('/'));
}

/** Each file's relative imports (type-only included), as paths under src/. */
function imports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"\n;]*?from\s*['"](\.[^'"]+)['"]/gm)].map((m) =>
    posix.normalize(posix.join(posix.dirname(file), m[1])).replace(/\.js$/, '.ts'),
  );
}

/** What a folder may not import: the folders above it. */
const BELOW: Record<string, readonly string[]> = {
  core: ['engine', 'instrument', 'vfs', 'capabilities', 'abi', 'guests', 'session', 'pool', 'api', 'servers', 'cli'],
  engine: ['instrument', 'capabilities', 'abi', 'guests', 'session', 'pool', 'api', 'servers', 'cli'],
  vfs: ['engine', 'instrument', 'capabilities', 'abi', 'guests', 'session', 'pool', 'api', 'servers', 'cli'],
  instrument: ['capabilities', 'abi', 'guests', 'session', 'pool', 'api', 'servers', 'cli'],
  capabilities: ['abi', 'guests', 'session', 'pool', 'api', 'servers', 'cli'],
  abi: ['guests', 'session', 'pool', 'api', 'servers', 'cli'],
  guests: ['session', 'pool', 'api', 'servers', 'cli'],
  session: ['pool', 'api', 'servers', 'cli'],
};

describe('layering of src/', () => {
  it('no folder imports a folder above it', () => {
    const upward: string[] = [];
    for (const file of sources()) {
      const forbidden = BELOW[file.split('/')[0]] ?? [];
      for (const target of imports(file)) if (forbidden.includes(target.split('/')[0])) upward.push(`${file} -> ${target}`);
    }
    assert.deepEqual(upward, []);
  });

  it('only the registry branches on the engine', () => {
    const branching = sources().filter((f) => f !== 'guests/registry.ts' && /=== 'cpython'|instanceof (CPythonSession|InlineSession)/.test(readFileSync(join(SRC, f), 'utf8')));
    assert.deepEqual(branching, []);
  });

  it('no file imports its way back into itself', () => {
    const graph = new Map(sources().map((f) => [f, imports(f)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
        else if (!state.has(d) && graph.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });

  it('sees the imports it checks (a test that cannot fail is a defect)', () => {
    assert.ok(imports('api/sandbox.ts').includes('session/session.ts'));
    assert.ok(sources().length > 100, relative(ROOT, dirname(SRC)));
  });
});
