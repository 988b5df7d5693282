// MicroPython's fatal paths (`nlr_jump_fail`, `__fatal_error`) end in `while (1) {}`, which would hang
// the host thread forever. Turn each empty infinite loop into `unreachable`, a trap the host can catch.
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';

function isEmptyInfiniteLoop(expr: number): boolean {
  // getExpressionInfo throws on some node kinds, so check the id first.
  if (binaryen.getExpressionId(expr) !== binaryen.LoopId) return false;
  const loop = binaryen.getExpressionInfo(expr) as binaryen.LoopInfo;
  if (binaryen.getExpressionId(loop.body) !== binaryen.BreakId) return false;
  const br = binaryen.getExpressionInfo(loop.body) as binaryen.BreakInfo;
  return br.name === loop.name && !br.condition && !br.value;
}

/** Returns the functions changed. The loops are either a whole body or a direct child of the body block. */
export function trapFatalLoops(m: Module): string[] {
  const changed: string[] = [];
  for (const name of definedFunctionNames(m)) {
    const fn = m.getFunction(name);
    const body = binaryen.getFunctionInfo(fn).body;
    if (isEmptyInfiniteLoop(body)) {
      FunctionNode.setBody(fn, m.unreachable());
      changed.push(name);
      continue;
    }
    if (binaryen.getExpressionId(body) !== binaryen.BlockId) continue;
    const n = BlockNode.getNumChildren(body);
    for (let i = 0; i < n; i++) {
      if (isEmptyInfiniteLoop(BlockNode.getChildAt(body, i))) {
        BlockNode.setChildAt(body, i, m.unreachable());
        changed.push(name);
      }
    }
  }
  return changed;
}
