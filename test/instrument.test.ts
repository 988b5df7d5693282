// The load-time instrumenter's graph logic: entry checks must break every call cycle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cycleBreakers, onCycles } from '../src/instrument/meter.js';

type Graph = Map<string, Set<string>>;

function graph(edges: [string, string][], nodes: string[] = []): Graph {
  const g: Graph = new Map(nodes.map((n) => [n, new Set<string>()]));
  for (const [a, b] of edges) {
    if (!g.has(a)) g.set(a, new Set());
    if (!g.has(b)) g.set(b, new Set());
    g.get(a)!.add(b);
  }
  return g;
}

function without(g: Graph, removed: Set<string>): Graph {
  const out: Graph = new Map();
  for (const [n, edges] of g) if (!removed.has(n)) out.set(n, new Set([...edges].filter((e) => !removed.has(e))));
  return out;
}

test('onCycles finds self-calls and mutual recursion, not acyclic chains', () => {
  const g = graph([['main', 'a'], ['a', 'b'], ['b', 'a'], ['c', 'c'], ['b', 'leaf']]);
  assert.deepEqual([...onCycles(g)].sort(), ['a', 'b', 'c']);
  assert.equal(onCycles(graph([['x', 'y'], ['y', 'z']])).size, 0);
});

test('removing the cycle breakers leaves no cycle, on random call graphs', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let round = 0; round < 200; round++) {
    const n = 2 + Math.floor(rand() * 40);
    const edges: [string, string][] = [];
    const count = Math.floor(rand() * n * 3);
    for (let i = 0; i < count; i++) edges.push([`f${Math.floor(rand() * n)}`, `f${Math.floor(rand() * n)}`]);
    const g = graph(edges, Array.from({ length: n }, (_, i) => `f${i}`));
    const breakers = cycleBreakers(g);
    assert.equal(onCycles(without(g, breakers)).size, 0, `round ${round}`);
    for (const b of breakers) assert.ok(onCycles(g).has(b), 'only nodes on cycles get checks');
  }
});
