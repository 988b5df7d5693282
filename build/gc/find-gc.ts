// Finds MicroPython's garbage-collector entry points and the data they use, by structure (the binary
// has no names). Each finder demands exactly one match, so a different input binary stops the build
// instead of producing a collector that scans the wrong memory.
import binaryen from 'binaryen';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { constAddress, expressions, info, isConst, kind } from '../walk.js';

export interface GcFunctions {
  /** external_call_depth_dec: `if (--depth == 0 && pending) { pending = 0; start(); end(); }` */
  depthDec: string;
  /** Address of the bool `gc_collect_pending`. */
  pendingAddr: number;
  /** gc_collect: in this port only `pending = 1`. */
  gcCollect: string;
  gcCollectStart: string;
  gcCollectEnd: string;
}

export interface GcLayout {
  /** Addresses of MP_STATE_THREAD(pystack_start) and (pystack_cur). */
  pystackStart: number;
  pystackCur: number;
  /** Address of MP_STATE_MEM(gc_stack_overflow). */
  overflow: number;
  /** Address of MP_STATE_MEM(gc_alloc_amount): blocks allocated since the last collection. */
  allocAmount: number;
  /** Address of MP_STATE_MEM(gc_alloc_threshold), which gc_alloc compares gc_alloc_amount with. */
  allocThreshold: number;
  /** gc_alloc: the caller of gc_collect that adds to gc_alloc_amount. */
  gcAlloc: string;
}

function voidFunctions(m: Module): { name: string; body: number }[] {
  return definedFunctionNames(m)
    .map((name) => ({ name, f: binaryen.getFunctionInfo(m.getFunction(name)) }))
    .filter(({ f }) => f.params === binaryen.none && f.results === binaryen.none)
    .map(({ name, f }) => ({ name, body: f.body }));
}

function only<T>(what: string, found: T[]): T {
  if (found.length !== 1) throw new Error(`mid-run GC: expected one ${what}, found ${found.length}`);
  return found[0];
}

export function findGcFunctions(m: Module): GcFunctions {
  const decs: Omit<GcFunctions, 'gcCollect'>[] = [];
  for (const { name, body } of voidFunctions(m)) {
    const nodes = expressions(body);
    if (nodes.length > 40) continue;
    const calls = nodes.filter((e) => kind(e) === binaryen.CallId);
    const store8 = nodes.filter((e) => kind(e) === binaryen.StoreId && info(e).bytes === 1);
    const load8 = nodes.filter((e) => kind(e) === binaryen.LoadId && info(e).bytes === 1);
    if (calls.length !== 2 || store8.length !== 1 || load8.length !== 1) continue;
    if (calls.some((c) => info(c).operands.length)) continue;
    const addr = constAddress(store8[0]);
    if (addr !== constAddress(load8[0]) || !isConst(info(store8[0]).value, 0)) continue;
    decs.push({ depthDec: name, pendingAddr: addr, gcCollectStart: info(calls[0]).target, gcCollectEnd: info(calls[1]).target });
  }
  const dec = only('external_call_depth_dec', decs);
  const collects = voidFunctions(m).filter(({ body }) => {
    const nodes = expressions(body).filter((e) => kind(e) !== binaryen.BlockId);
    if (nodes.length !== 3 || kind(nodes[0]) !== binaryen.StoreId) return false;
    const s = info(nodes[0]);
    return s.bytes === 1 && constAddress(nodes[0]) === dec.pendingAddr && isConst(s.value, 1);
  });
  return { ...dec, gcCollect: only('gc_collect', collects).name };
}

/**
 * In gc_collect_start: the pystack scan `len = (cur - start) / 4` loads two words 8 bytes apart; the
 * mark-stack overflow flag is the word it zeroes that one of its callees (gc_mark_subtree) sets to 1.
 */
export function findGcLayout(m: Module, g: GcFunctions): GcLayout {
  const body = binaryen.getFunctionInfo(m.getFunction(g.gcCollectStart)).body;
  const nodes = expressions(body);
  const ranges: [number, number][] = [];
  for (const s of nodes.filter((e) => kind(e) === binaryen.BinaryId && info(e).op === binaryen.SubInt32)) {
    const { left } = info(s);
    let { right } = info(s);
    if (kind(right) === binaryen.LocalSetId) right = info(right).value; // local.tee
    if (kind(left) !== binaryen.LoadId || kind(right) !== binaryen.LoadId) continue;
    const [cur, start] = [constAddress(left), constAddress(right)];
    if (cur - start === 8) ranges.push([start, cur]);
  }
  const [pystackStart, pystackCur] = only('pystack range in gc_collect_start', ranges);
  const zeroed = nodes
    .filter((e) => kind(e) === binaryen.StoreId && info(e).bytes === 4 && isConst(info(e).value, 0))
    .map(constAddress);
  const setToOne = new Set<number>();
  for (const c of new Set(nodes.filter((e) => kind(e) === binaryen.CallId).map((e) => info(e).target as string))) {
    for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(c)).body)) {
      if (kind(e) === binaryen.StoreId && isConst(info(e).value, 1)) setToOne.add(constAddress(e));
    }
  }
  const overflow = only('gc_stack_overflow flag', zeroed.filter((a) => setToOne.has(a)));
  // gc_collect_start zeroes exactly one other word: gc_alloc_amount, which gc_alloc adds to.
  const allocAmount = only('gc_alloc_amount', zeroed.filter((a) => a !== overflow));
  const allocs = definedFunctionNames(m).filter((name) => {
    const nodes = expressions(binaryen.getFunctionInfo(m.getFunction(name)).body);
    const callsCollect = nodes.some((e) => kind(e) === binaryen.CallId && info(e).target === g.gcCollect);
    const addsToAmount = nodes.some(
      (e) => kind(e) === binaryen.StoreId && constAddress(e) === allocAmount && kind(info(e).value) === binaryen.BinaryId && info(info(e).value).op === binaryen.AddInt32,
    );
    return callsCollect && addsToAmount;
  });
  const gcAlloc = only('gc_alloc', allocs);
  const thresholds = expressions(binaryen.getFunctionInfo(m.getFunction(gcAlloc)).body)
    .filter((e) => kind(e) === binaryen.BinaryId && [binaryen.GeUInt32, binaryen.LtUInt32].includes(info(e).op))
    .map((e) => [info(e).left, info(e).right].filter((x) => kind(x) === binaryen.LoadId).map(constAddress))
    .filter((pair) => pair.length === 2 && pair.includes(allocAmount))
    .map((pair) => pair.find((a) => a !== allocAmount)!);
  return { pystackStart, pystackCur, overflow, allocAmount, allocThreshold: only('gc_alloc_threshold', thresholds), gcAlloc };
}

/** Opcode dispatch needs a br_table at least this wide; nothing else in the binary comes close. */
const MIN_VM_DISPATCH_TARGETS = 64;

/**
 * mp_execute_bytecode: the function holding the widest br_table (its opcode dispatch), which must be
 * far wider than any other function's.
 */
export function findBytecodeVm(m: Module): string {
  const widths = definedFunctionNames(m).map((name) => {
    let widest = 0;
    for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(name)).body)) {
      if (kind(e) === binaryen.SwitchId) widest = Math.max(widest, info(e).names.length);
    }
    return { name, widest };
  });
  widths.sort((a, b) => b.widest - a.widest);
  const [vm, next] = widths;
  if (vm.widest < MIN_VM_DISPATCH_TARGETS || next.widest * 1.5 > vm.widest) {
    throw new Error(`mid-run GC: no unique opcode dispatch (widest br_tables ${vm.widest}, ${next.widest})`);
  }
  return vm.name;
}

/**
 * In gc_alloc, after a run of free blocks is found:
 * `if (n_free == 1) { gc_last_free_area = area; area->gc_last_free_atb_index = (i + 1) / 4; }`,
 * compiled as a block that starts with `br_if (n_free != 1)` out of itself and then stores to a
 * constant address (gc_last_free_area). Returns that br_if, and the address.
 */
export function findSingleBlockHint(m: Module, gcAlloc: string): { branch: number; lastFreeArea: number } {
  const found: { branch: number; lastFreeArea: number }[] = [];
  for (const e of expressions(binaryen.getFunctionInfo(m.getFunction(gcAlloc)).body)) {
    if (kind(e) !== binaryen.BlockId) continue;
    const [first, second] = info(e).children as number[];
    if (first === undefined || second === undefined || kind(first) !== binaryen.BreakId || kind(second) !== binaryen.StoreId) continue;
    const br = info(first);
    if (br.name !== info(e).name || !br.condition || kind(br.condition) !== binaryen.BinaryId) continue;
    const cond = info(br.condition);
    if (cond.op !== binaryen.NeInt32 || !isConst(cond.right, 1) || Number.isNaN(constAddress(second))) continue;
    found.push({ branch: first, lastFreeArea: constAddress(second) });
  }
  return only('single-block search hint in gc_alloc', found);
}
