// hash() of a tuple nested 100,000 deep recurses tuple_hash -> PyObject_Hash -> tuple_hash once a
// level with no recursion check: python3 (3.12 on) hashes it on its 8 MiB stack, but V8's native stack
// on an inline sandbox's thread holds a few thousand levels (~170 bytes each). Since 3.14 a tuple
// caches its hash (ob_hash), so past NESTING_BEFORE_ITERATIVE levels the tuples below are hashed
// bottom-up, with a stack of their own in the heap: each then finds its tuples' hashes cached and
// recurses one level. Shallower tuples are hashed by the original recursion (the order in which user
// __hash__ methods run is python3's).
import binaryen from 'binaryen';
import { exportedFunction, type Module } from '../wasm-inspect.js';
import { FunctionNode } from '../binaryen-extra.js';
import { info } from '../walk.js';
import { dataWord } from './data-image.js';

/** CPython 3.14's layout on wasm32 (PyTupleObject, PyTypeObject). */
const OB_TYPE = 4;
const OB_SIZE = 8;
const OB_HASH = 12;
const OB_ITEM = 16;
const TP_HASH = 60;

/** Tuple nesting hashed by the original recursion (a few dozen KiB of native stack). */
export const NESTING_BEFORE_ITERATIVE = 64;

/** An entry of the heap stack: a tuple, and the index of its next item to look at. */
const ENTRY_BYTES = 8;
const FIRST_CAPACITY = 64;

/** The address an exported data symbol (an immutable i32 global) holds. */
function exportedDataAddress(m: Module, name: string): number {
  const ref = m.getExport(name);
  const exp = ref && binaryen.getExportInfo(ref);
  if (!exp || exp.kind !== binaryen.ExternalGlobal) throw new Error(`cpython: no exported global "${name}"`);
  const g = binaryen.getGlobalInfo(m.getGlobal(exp.value));
  if (g.mutable || binaryen.getExpressionId(g.init) !== binaryen.ConstId) throw new Error(`cpython: "${name}" is not a constant address`);
  return info(g.init).value;
}

/** The function at `index` of the module's (only) table, from its element segments. */
function tableFunction(m: Module, index: number): string {
  for (let i = 0; i < m.getNumElementSegments(); i++) {
    const seg = binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(i));
    const offset = seg.offset as unknown as number;
    if (binaryen.getExpressionId(offset) !== binaryen.ConstId) continue;
    const at = index - info(offset).value;
    if (at >= 0 && at < seg.data.length) return seg.data[at];
  }
  throw new Error(`cpython: no function at table index ${index}`);
}

/**
 * tuple_hash (PyTuple_Type's tp_hash) counts its nesting and past NESTING_BEFORE_ITERATIVE hashes
 * iteratively; returns the function's name.
 */
export function hashDeepTuplesIteratively(m: Module, input: Uint8Array): string {
  const tupleType = exportedDataAddress(m, 'PyTuple_Type');
  const hashSlot = dataWord(input, tupleType + TP_HASH);
  const name = tableFunction(m, hashSlot);
  const fn = binaryen.getFunctionInfo(m.getFunction(name));
  if (fn.params !== binaryen.i32 || fn.results !== binaryen.i32) throw new Error('cpython: tuple_hash is not (i32) -> i32');
  const recursive = `${name}$recursive`;
  m.addFunction(recursive, fn.params, fn.results, fn.vars, fn.body);
  const iterative = addIterativeHash(m, recursive, hashSlot);

  // tuple_hash(v): depth++; h = depth > N ? iterative(v) : recursive(v); depth--; h
  const depth = `${name}$nesting`;
  m.addGlobal(depth, binaryen.i32, true, m.i32.const(0));
  const step = (op: (a: number, b: number) => number) => m.global.set(depth, op(m.global.get(depth, binaryen.i32), m.i32.const(1)));
  const wrapper = m.getFunction(name);
  const h = FunctionNode.addVar(wrapper, binaryen.i32);
  const v = () => m.local.get(0, binaryen.i32);
  FunctionNode.setBody(wrapper, m.block(null, [
    step(m.i32.add),
    m.local.set(h, m.if(m.i32.gt_u(m.global.get(depth, binaryen.i32), m.i32.const(NESTING_BEFORE_ITERATIVE)),
      m.call(iterative, [v()], binaryen.i32), m.call(recursive, [v()], binaryen.i32))),
    step(m.i32.sub),
    m.local.get(h, binaryen.i32),
  ], binaryen.i32));
  return name;
}

/**
 * (v) -> hash: a depth-first walk over v's tuples whose hash is not cached yet (any type whose
 * tp_hash is tuple_hash is a tuple), hashing each with `recursive` once its own are cached. The stack
 * grows with PyMem_RawRealloc; -1 with the exception set on failure, as tuple_hash.
 */
function addIterativeHash(m: Module, recursive: string, hashSlot: number): string {
  const name = `${recursive}$iterative`;
  const i32 = binaryen.i32;
  const realloc = exportedFunction(m, 'PyMem_RawRealloc');
  const free = exportedFunction(m, 'PyMem_RawFree');
  const noMemory = exportedFunction(m, 'PyErr_NoMemory');
  // Locals: 0 v (param), then:
  const [buf, cap, n, t, i, item, h, grown] = [1, 2, 3, 4, 5, 6, 7, 8];
  const get = (l: number) => m.local.get(l, i32);
  const set = (l: number, e: number) => m.local.set(l, e);
  const c = (x: number) => m.i32.const(x);
  const load = (ptr: number, offset = 0) => m.i32.load(offset, 4, ptr);
  const top = () => m.i32.add(get(buf), m.i32.mul(m.i32.sub(get(n), c(1)), c(ENTRY_BYTES)));

  const push = (x: number) => m.block(null, [
    m.if(m.i32.eq(get(n), get(cap)), m.block(null, [
      set(cap, m.select(get(cap), m.i32.shl(get(cap), c(1)), c(FIRST_CAPACITY))), // doubled, or the first
      set(grown, m.call(realloc, [get(buf), m.i32.mul(get(cap), c(ENTRY_BYTES))], i32)),
      m.if(m.i32.eqz(get(grown)), m.block(null, [m.drop(m.call(noMemory, [], i32)), m.br('fail')])),
      set(buf, get(grown)),
    ])),
    m.i32.store(0, 4, m.i32.add(get(buf), m.i32.mul(get(n), c(ENTRY_BYTES))), x),
    m.i32.store(4, 4, m.i32.add(get(buf), m.i32.mul(get(n), c(ENTRY_BYTES))), c(0)),
    set(n, m.i32.add(get(n), c(1))),
  ]);

  // The next item of the top tuple that is a tuple with no cached hash: pushed, and the walk goes on from it.
  const scan = m.loop('scan', m.block(null, [
    m.br('children_done', m.i32.ge_s(get(i), load(get(t), OB_SIZE))),
    set(item, load(m.i32.add(m.i32.add(get(t), c(OB_ITEM)), m.i32.shl(get(i), c(2))))),
    set(i, m.i32.add(get(i), c(1))),
    m.if(m.i32.eq(load(load(get(item), OB_TYPE), TP_HASH), c(hashSlot)),
      m.if(m.i32.eq(load(get(item), OB_HASH), c(-1)), m.block(null, [
        m.i32.store(4, 4, top(), get(i)),
        push(get(item)),
        m.br('walk'),
      ]))),
    m.br('scan'),
  ]));

  const walk = m.loop('walk', m.block(null, [
    set(t, load(top())),
    set(i, load(top(), 4)),
    m.block('children_done', [scan]),
    // Every tuple below t is hashed: t's own hash recurses one level.
    set(h, m.call(recursive, [get(t)], i32)),
    m.br('fail', m.i32.eq(get(h), c(-1))),
    set(n, m.i32.sub(get(n), c(1))),
    m.br('walk', get(n)),
  ]));

  const body = m.block(null, [
    m.block('fail', [push(m.local.get(0, i32)), walk, m.call(free, [get(buf)], binaryen.none), m.return(get(h))]),
    m.call(free, [get(buf)], binaryen.none),
    c(-1),
  ], i32);
  m.addFunction(name, binaryen.createType([i32]), i32, [i32, i32, i32, i32, i32, i32, i32, i32], body);
  return name;
}
