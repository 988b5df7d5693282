// The call graph, and a set of functions that meets every cycle in it. Indirect calls are resolved
// conservatively to every table entry of the same signature.
import binaryen from 'binaryen';
import { definedFunctionNames, type Module } from './wasm-inspect.js';
import { children } from './walk.js';
import { callIndirectSignature } from './binaryen-extra.js';

function signatureKey(params: number, results: number): string {
  return `${binaryen.expandType(params).join(',')}->${binaryen.expandType(results).join(',')}`;
}

function tableFunctionsBySignature(m: Module): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    for (const name of binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i)).data) {
      const f = binaryen.getFunctionInfo(m.getFunction(name));
      const key = signatureKey(f.params, f.results);
      if (!out.has(key)) out.set(key, []);
      out.get(key)!.push(name);
    }
  }
  return out;
}

/** Each defined function's callees (defined or imported). */
export type CallGraph = Map<string, Set<string>>;

export function callGraph(m: Module): CallGraph {
  const table = tableFunctionsBySignature(m);
  const graph = new Map<string, Set<string>>();
  for (const name of definedFunctionNames(m)) {
    const callees = new Set<string>();
    const stack = [binaryen.getFunctionInfo(m.getFunction(name)).body];
    while (stack.length) {
      const expr = stack.pop()!;
      const id = binaryen.getExpressionId(expr);
      if (id === binaryen.CallId) {
        callees.add((binaryen.getExpressionInfo(expr) as binaryen.CallInfo).target);
      } else if (id === binaryen.CallIndirectId) {
        const info = callIndirectSignature(expr);
        for (const t of table.get(signatureKey(info.params, info.results)) ?? []) callees.add(t);
      }
      stack.push(...children(expr));
    }
    graph.set(name, callees);
  }
  return graph;
}

/**
 * A set of functions that meets every call cycle: the targets of DFS back edges (every cycle has a
 * back edge, into the cycle's first-discovered function). Checking fuel at these entries bounds all
 * recursion with far fewer checks than checking every function on a cycle. Roots go first so the
 * set falls on deep, recursive functions rather than on entry points.
 */
export function cycleBreakers(graph: CallGraph, roots: string[]): Set<string> {
  const WHITE = 0;
  const GRAY = 1;
  const BLACK = 2;
  const color = new Map<string, number>();
  const result = new Set<string>();
  const order = [...roots.filter((r) => graph.has(r)), ...graph.keys()];
  for (const root of order) {
    if ((color.get(root) ?? WHITE) !== WHITE) continue;
    const work: { node: string; iter: Iterator<string> }[] = [{ node: root, iter: graph.get(root)!.values() }];
    color.set(root, GRAY);
    while (work.length) {
      const top = work[work.length - 1];
      const step = top.iter.next();
      if (step.done) {
        color.set(top.node, BLACK);
        work.pop();
        continue;
      }
      const w = step.value;
      if (!graph.has(w)) continue; // imported function
      const c = color.get(w) ?? WHITE;
      if (c === GRAY) result.add(w);
      else if (c === WHITE) {
        color.set(w, GRAY);
        work.push({ node: w, iter: graph.get(w)!.values() });
      }
    }
  }
  return result;
}

/**
 * The graph with `bypassed` functions removed and their callers linked straight to their callees, so
 * a cycle through a bypassed function is still a cycle (and still gets a cycle breaker elsewhere).
 */
export function bypassing(graph: CallGraph, bypassed: ReadonlySet<string>): CallGraph {
  const expand = (callees: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    const seen = new Set<string>();
    const work = [...callees];
    while (work.length) {
      const c = work.pop()!;
      if (!bypassed.has(c)) out.add(c);
      else if (!seen.has(c)) {
        seen.add(c);
        work.push(...(graph.get(c) ?? []));
      }
    }
    return out;
  };
  const out = new Map<string, Set<string>>();
  for (const [fn, callees] of graph) if (!bypassed.has(fn)) out.set(fn, expand(callees));
  return out;
}
