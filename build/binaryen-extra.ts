// Parts of binaryen.js 132 that exist at runtime but are missing from its type declarations.
import binaryen from 'binaryen';

type Ref = number;
const api = binaryen as unknown as {
  _BinaryenFunctionAddVar(fn: Ref, type: number): number;
  Block: { getNumChildren(e: Ref): number; getChildAt(e: Ref, i: number): Ref; setChildAt(e: Ref, i: number, c: Ref): void; insertChildAt(e: Ref, i: number, c: Ref): void; setName(e: Ref, name: string): void };
  Loop: { getBody(e: Ref): Ref; setBody(e: Ref, body: Ref): void; setName(e: Ref, name: string): void };
  If: { setIfTrue(e: Ref, c: Ref): void; setIfFalse(e: Ref, c: Ref): void };
  Switch: { setNameAt(e: Ref, i: number, name: string): void; setDefaultName(e: Ref, name: string): void };
  Function: { setBody(fn: Ref, body: Ref): void };
  Call: { setTarget(e: Ref, name: string): void };
  Break: { setCondition(e: Ref, condition: Ref): void; setName(e: Ref, name: string): void };
  Binary: { setLeft(e: Ref, left: Ref): void; setRight(e: Ref, right: Ref): void };
  Drop: { setValue(e: Ref, value: Ref): void };
  LocalSet: { setValue(e: Ref, value: Ref): void };
  Load: { setOffset(e: Ref, offset: number): void };
  Store: { setOffset(e: Ref, offset: number): void };
  Const: { setValueI32(e: Ref, value: number): void };
  TableSet: { getTable(e: Ref): string };
  TableGrow: { getTable(e: Ref): string };
  _BinaryenTableGetType(table: Ref): number;
  _BinaryenTableFillId(): number;
  _BinaryenTableCopyId(): number;
  _BinaryenTableInitId(): number;
};

export const BlockNode = api.Block;
export const LoopNode = api.Loop;
export const IfNode = api.If;
export const SwitchNode = api.Switch;
export const CallNode = api.Call;
export const BreakNode = api.Break;
export const BinaryNode = api.Binary;
export const DropNode = api.Drop;
export const LocalSetNode = api.LocalSet;
export const LoadNode = api.Load;
export const StoreNode = api.Store;
export const ConstNode = api.Const;
/** The table a table.set or table.grow names. */
export const tableOf = { set: api.TableSet.getTable, grow: api.TableGrow.getTable };
/** A table's element type (binaryen.funcref, binaryen.externref, ...). */
export const tableType = (table: Ref): number => api._BinaryenTableGetType(table);
/** Expression ids binaryen.js declares no constant for. */
export const tableBulkIds = (): number[] => [api._BinaryenTableFillId(), api._BinaryenTableCopyId(), api._BinaryenTableInitId()];
export const FunctionNode = {
  ...api.Function,
  /** Adds a local variable to a function; returns its index. */
  addVar: (fn: Ref, type: number): number => api._BinaryenFunctionAddVar(fn, type),
};

/** The signature a call_indirect expects (its info has params/results at runtime). */
export function callIndirectSignature(expr: Ref): { params: number; results: number } {
  return binaryen.getExpressionInfo(expr) as unknown as { params: number; results: number };
}

/** An active or passive data segment of a module's memory. */
export interface DataSegment {
  /** Where an active segment is written (null for a passive one). */
  offset: number | null;
  data: ArrayBuffer;
  passive: boolean;
}

/** A module's data segments, in order (binaryen.js has these methods at runtime only). */
export function dataSegments(m: binaryen.Module): DataSegment[] {
  const mod = m as unknown as { getNumDataSegments(): number; getDataSegmentByIndex(i: number): Ref; getDataSegmentInfo(s: Ref): DataSegment };
  return Array.from({ length: mod.getNumDataSegments() }, (_, i) => mod.getDataSegmentInfo(mod.getDataSegmentByIndex(i)));
}
