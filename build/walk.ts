// A walker over binaryen expressions. binaryen.js has no generic child iterator (and getExpressionInfo
// throws on some leaves), so children are listed per node kind; an unknown kind stops the build.
import binaryen from 'binaryen';

type Info = Record<string, unknown>;
const LEAVES = new Set<number>([
  binaryen.ConstId,
  binaryen.LocalGetId,
  binaryen.GlobalGetId,
  binaryen.MemorySizeId,
  binaryen.NopId,
  binaryen.UnreachableId,
  binaryen.RethrowId,
  binaryen.RefNullId,
  binaryen.RefFuncId,
  binaryen.PopId,
  binaryen.DataDropId,
  binaryen.TableSizeId,
  binaryen.AtomicFenceId,
]);

const CHILD_FIELDS = new Map<number, string[]>([
  [binaryen.BlockId, ['children']],
  [binaryen.IfId, ['condition', 'ifTrue', 'ifFalse']],
  [binaryen.LoopId, ['body']],
  [binaryen.BreakId, ['condition', 'value']],
  [binaryen.SwitchId, ['condition', 'value']],
  [binaryen.CallId, ['operands']],
  [binaryen.CallIndirectId, ['target', 'operands']],
  [binaryen.LocalSetId, ['value']],
  [binaryen.GlobalSetId, ['value']],
  [binaryen.LoadId, ['ptr']],
  [binaryen.StoreId, ['ptr', 'value']],
  [binaryen.UnaryId, ['value']],
  [binaryen.BinaryId, ['left', 'right']],
  [binaryen.SelectId, ['ifTrue', 'ifFalse', 'condition']],
  [binaryen.DropId, ['value']],
  [binaryen.ReturnId, ['value']],
  [binaryen.MemoryGrowId, ['delta']],
  [binaryen.MemoryCopyId, ['dest', 'source', 'size']],
  [binaryen.MemoryFillId, ['dest', 'value', 'size']],
  [binaryen.TryId, ['body', 'catchBodies']],
  [binaryen.ThrowId, ['operands']],
  [binaryen.RefIsNullId, ['value']],
  [binaryen.RefEqId, ['left', 'right']],
  [binaryen.TableGetId, ['index']],
  [binaryen.TableSetId, ['index', 'value']],
  [binaryen.TableGrowId, ['value', 'delta']],
  [binaryen.MemoryInitId, ['dest', 'offset', 'size']],
  [binaryen.TupleMakeId, ['operands']],
  [binaryen.TupleExtractId, ['tuple']],
  [binaryen.AtomicRMWId, ['ptr', 'value']],
  [binaryen.AtomicCmpxchgId, ['ptr', 'expected', 'replacement']],
  [binaryen.AtomicWaitId, ['ptr', 'expected', 'timeout']],
  [binaryen.AtomicNotifyId, ['ptr', 'notifyCount']],
  [binaryen.SIMDExtractId, ['vec']],
  [binaryen.SIMDReplaceId, ['vec', 'value']],
  [binaryen.SIMDShuffleId, ['left', 'right']],
  [binaryen.SIMDTernaryId, ['a', 'b', 'c']],
  [binaryen.SIMDShiftId, ['vec', 'shift']],
  [binaryen.SIMDLoadId, ['ptr']],
  [binaryen.SIMDLoadStoreLaneId, ['ptr', 'vec']],
]);

export function children(expr: number): number[] {
  const id = binaryen.getExpressionId(expr);
  if (LEAVES.has(id)) return [];
  const fields = CHILD_FIELDS.get(id);
  if (!fields) throw new Error(`walk: unsupported expression kind ${id}`);
  const info = binaryen.getExpressionInfo(expr) as unknown as Info;
  const out: number[] = [];
  for (const f of fields) {
    const v = info[f];
    if (Array.isArray(v)) out.push(...(v as number[]));
    else if (typeof v === 'number' && v !== 0) out.push(v);
  }
  return out;
}

/** `expr` and every expression under it, in source order. */
export function expressions(expr: number): number[] {
  const out: number[] = [];
  const stack = [expr];
  while (stack.length) {
    const e = stack.pop()!;
    out.push(e);
    stack.push(...children(e).reverse());
  }
  return out;
}

/** An expression's fields (binaryen.js's per-kind info objects, loosely typed). */
export const info = (e: number) => binaryen.getExpressionInfo(e) as unknown as Record<string, any>;
export const kind = (e: number) => binaryen.getExpressionId(e);
export const isConst = (e: number, value: number) => kind(e) === binaryen.ConstId && info(e).value === value;

/** The constant address of a load or store (pointer constant plus offset), or NaN. */
export function constAddress(e: number): number {
  const i = info(e);
  return kind(i.ptr) === binaryen.ConstId ? info(i.ptr).value + i.offset : NaN;
}
