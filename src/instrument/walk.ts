// Children of any binaryen expression a WASI or plain module may contain (MVP, sign-ext, bulk
// memory, reference types, SIMD, tail calls, exceptions). binaryen.js has no generic child
// iterator, and its getExpressionInfo is slow (it calls every getter of the node's class), so each
// kind lists its child getters. A kind not listed refuses the module rather than leaving a loop
// unmetered.
import type binaryenT from 'binaryen';

type Binaryen = typeof binaryenT;
type Getter = (e: number) => number | number[];

export class UnsupportedExpression extends Error {}

export function makeChildren(binaryen: Binaryen): (expr: number) => number[] {
  const b = binaryen as unknown as Record<string, Record<string, Getter>> & Record<string, number>;
  const table = new Map<number, Getter[]>();
  const leaves = ['Const', 'LocalGet', 'GlobalGet', 'MemorySize', 'Nop', 'Unreachable', 'Rethrow', 'DataDrop', 'RefNull', 'RefFunc', 'TableSize', 'Pop', 'AtomicFence'];
  for (const kind of leaves) table.set(b[`${kind}Id`], []);
  const getters: Record<string, string[]> = {
    Block: ['getChildren'],
    If: ['getCondition', 'getIfTrue', 'getIfFalse'],
    Loop: ['getBody'],
    Break: ['getCondition', 'getValue'],
    Switch: ['getCondition', 'getValue'],
    Call: ['getOperands'],
    CallIndirect: ['getTarget', 'getOperands'],
    LocalSet: ['getValue'],
    GlobalSet: ['getValue'],
    Load: ['getPtr'],
    Store: ['getPtr', 'getValue'],
    Unary: ['getValue'],
    Binary: ['getLeft', 'getRight'],
    Select: ['getIfTrue', 'getIfFalse', 'getCondition'],
    Drop: ['getValue'],
    Return: ['getValue'],
    MemoryGrow: ['getDelta'],
    MemoryInit: ['getDest', 'getOffset', 'getSize'],
    MemoryCopy: ['getDest', 'getSource', 'getSize'],
    MemoryFill: ['getDest', 'getValue', 'getSize'],
    AtomicRMW: ['getPtr', 'getValue'],
    AtomicCmpxchg: ['getPtr', 'getExpected', 'getReplacement'],
    AtomicWait: ['getPtr', 'getExpected', 'getTimeout'],
    AtomicNotify: ['getPtr', 'getNotifyCount'],
    SIMDExtract: ['getVec'],
    SIMDReplace: ['getVec', 'getValue'],
    SIMDShuffle: ['getLeft', 'getRight'],
    SIMDTernary: ['getA', 'getB', 'getC'],
    SIMDShift: ['getVec', 'getShift'],
    SIMDLoad: ['getPtr'],
    SIMDLoadStoreLane: ['getPtr', 'getVec'],
    RefIsNull: ['getValue'],
    RefEq: ['getLeft', 'getRight'],
    TableGet: ['getIndex'],
    TableSet: ['getIndex', 'getValue'],
    TableGrow: ['getValue', 'getDelta'],
    Try: ['getBody', 'getCatchBodies'],
    Throw: ['getOperands'],
    TupleMake: ['getOperands'],
    TupleExtract: ['getTuple'],
  };
  for (const [kind, names] of Object.entries(getters)) {
    const cls = b[kind];
    const id = b[`${kind}Id`];
    if (!cls || id === undefined) continue;
    table.set(id, names.map((n) => cls[n]));
  }
  return (expr) => {
    const fns = table.get(binaryen.getExpressionId(expr));
    if (!fns) throw new UnsupportedExpression(`unsupported instruction kind ${binaryen.getExpressionId(expr)}`);
    const out: number[] = [];
    for (const get of fns) {
      const v = get(expr);
      if (Array.isArray(v)) out.push(...v);
      else if (v) out.push(v);
    }
    return out;
  };
}
