// Every new str goes through qstr_find_strn, which looks for an interned string (qstr) with the same
// bytes so it can be reused: it hashes the bytes, then scans every qstr pool (the interpreter's own
// names, then every pool created at run time) comparing each entry's hash. Most new strings are not
// interned, so that scan nearly always ends empty-handed, and it was the largest single cost of
// string-heavy programs (a third of their time unmetered, half metered).
//
// So: a bitset of 2^16 bits, one per value of the 16-bit qstr hash, set for the hash of every qstr
// that exists. The lookup returns "not found" at once when its hash's bit is clear, and scans as before
// otherwise. The bitset never has a bit clear for an existing qstr: the bake fills it from every pool
// (checking each entry's stored hash against its bytes, so a misread layout stops the build) and the
// one place that appends to a pool sets the new entry's bit. A false "not found" would let a second
// qstr with the same bytes be created, and names are compared by qstr: attribute lookups would fail.
//
// The bitset is an 8 KiB block malloc'd at bake time; its address is a wasm global (0 before the bake:
// no filtering), so guest code can at worst corrupt the bitset's bytes, which only changes the
// results of its own lookups, never where the filter reads or writes.
//
// Found by structure: qstr_find_strn is the function that computes the djb2 hash (`h * 33 ^ byte`,
// truncated to 16 bits) and compares it with a `load16_u` from the pools it walks from one static
// pointer (the last pool); the append is the only function storing a computed value to that pointer,
// and its one `store16` writes the new entry's hash.
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import type { EngineInstance } from '../../src/guests/micropython/instance.js';

export const QSTR_FILTER_GLOBAL = 'pyfence_qstr_filter';
/** One bit per 16-bit hash. */
export const QSTR_FILTER_BYTES = (1 << 16) / 8;

/** qstr_len_t is one byte: qstr_from_strn refuses longer names. */
const MAX_QSTR_BYTES = 255;

/** qstr_pool_t of this build (32-bit pointers, 2-byte hashes, 1-byte lengths); verified at bake. */
export const QSTR_POOL_LAYOUT = { prev: 0, totalPrevLen: 4, len: 12, hashes: 16, lengths: 20, qstrs: 24 } as const;

export interface QstrFilterReport {
  /** qstr_find_strn. */
  find: string;
  /** The function appending to the last pool (qstr_add, inlined into qstr_from_strn). */
  append: string;
  /** Address of MP_STATE_VM(last_pool). */
  lastPoolAddress: number;
}

const isDjb2Step = (e: number) =>
  kind(e) === binaryen.BinaryId &&
  info(e).op === binaryen.XorInt32 &&
  kind(info(e).left) === binaryen.BinaryId &&
  info(info(e).left).op === binaryen.MulInt32 &&
  isConst(info(info(e).left).right, 33) &&
  kind(info(e).right) === binaryen.LoadId &&
  info(info(e).right).bytes === 1;

const bodyOf = (m: Module, fn: string) => binaryen.getFunctionInfo(m.getFunction(fn)).body as number;

/** `load offset=o (i32.const c)`: c + o, else NaN. */
function staticLoadAddress(e: number): number {
  if (kind(e) !== binaryen.LoadId || info(e).bytes !== 4 || kind(info(e).ptr) !== binaryen.ConstId) return NaN;
  return (info(info(e).ptr).value as number) + (info(e).offset as number);
}

/** The block holding `stmt` as a direct child, and its index there. */
function parentBlock(root: number, stmt: number): { block: number; index: number } {
  for (const b of expressions(root).filter((e) => kind(e) === binaryen.BlockId)) {
    const index = (info(b).children as number[]).indexOf(stmt);
    if (index >= 0) return { block: b, index };
  }
  throw new Error('qstr filter: statement is not in a block');
}

/** Locals compared (== or !=) with an unsigned `bytes`-wide load: the pool scan's hash (2) and length (1). */
function comparedWithLoad(body: number, bytes: number): number[] {
  const locals = new Set<number>();
  for (const e of expressions(body)) {
    if (kind(e) !== binaryen.BinaryId || ![binaryen.NeInt32, binaryen.EqInt32].includes(info(e).op)) continue;
    const [l, r] = [info(e).left, info(e).right];
    for (const [a, b] of [[l, r], [r, l]]) {
      if (kind(a) === binaryen.LocalGetId && kind(b) === binaryen.LoadId && info(b).bytes === bytes && !info(b).isSigned) {
        locals.add(info(a).index as number);
      }
    }
  }
  return [...locals];
}
const comparedHashLocal = (body: number) => comparedWithLoad(body, 2);

/** `bit(h)` of the bitset: `load8_u(filter + (h >> 3)) & (1 << (h & 7))`, and its address. */
function bitExpr(m: Module, h: () => number) {
  const address = () => m.i32.add(m.global.get(QSTR_FILTER_GLOBAL, binaryen.i32), m.i32.shr_u(h(), m.i32.const(3)));
  const mask = () => m.i32.shl(m.i32.const(1), m.i32.and(h(), m.i32.const(7)));
  return { address, mask };
}

const filterInstalled = (m: Module) => m.global.get(QSTR_FILTER_GLOBAL, binaryen.i32);

export function filterInternedLookups(m: Module): QstrFilterReport {
  const hashing = definedFunctionNames(m).filter((fn) => expressions(bodyOf(m, fn)).some(isDjb2Step));
  const finds = hashing.filter((fn) => {
    const all = expressions(bodyOf(m, fn));
    return comparedHashLocal(bodyOf(m, fn)).length === 1 && !all.some((e) => kind(e) === binaryen.StoreId);
  });
  if (finds.length !== 1) throw new Error(`qstr filter: expected one qstr_find_strn, found ${finds.length} (${finds.join(' ')})`);
  const find = finds[0];
  const body = bodyOf(m, find);
  const hash = comparedHashLocal(body)[0];
  const sets = expressions(body).filter((e) => kind(e) === binaryen.LocalSetId && info(e).index === hash);
  if (sets.length !== 1 || info(sets[0]).isTee || !expressions(sets[0]).some((e) => kind(e) === binaryen.BinaryId && info(e).op === binaryen.AndInt32 && isConst(info(e).right, 0xffff))) {
    throw new Error('qstr filter: the lookup should set its 16-bit hash once, as a statement');
  }
  const roots = [...new Set(expressions(body).map(staticLoadAddress).filter((a) => !Number.isNaN(a)))];
  if (roots.length !== 1) throw new Error(`qstr filter: the lookup should read one static pointer (the last pool), read ${roots.length}`);
  const lastPoolAddress = roots[0];

  const appends = definedFunctionNames(m).filter((fn) =>
    expressions(bodyOf(m, fn)).some(
      (e) =>
        kind(e) === binaryen.StoreId &&
        info(e).bytes === 4 &&
        kind(info(e).ptr) === binaryen.ConstId &&
        (info(info(e).ptr).value as number) + (info(e).offset as number) === lastPoolAddress &&
        kind(info(e).value) !== binaryen.ConstId,
    ),
  );
  if (appends.length !== 1) throw new Error(`qstr filter: expected one function appending to the last pool, found ${appends.length}`);
  const append = appends[0];
  const hashStores = expressions(bodyOf(m, append)).filter((e) => kind(e) === binaryen.StoreId && info(e).bytes === 2);
  if (hashStores.length !== 1 || kind(info(hashStores[0]).value) !== binaryen.LocalGetId) {
    throw new Error(`qstr filter: the append should store one 16-bit hash from a local, found ${hashStores.length} 16-bit stores`);
  }

  // The length argument is compared with each entry's one-byte length: no qstr is longer than 255
  // bytes, so a longer string is not looked up (nor hashed: str of a 60 KB text hashed it twice).
  const lengthArgs = comparedWithLoad(body, 1);
  const params = binaryen.expandType(binaryen.getFunctionInfo(m.getFunction(find)).params).length;
  if (lengthArgs.length !== 1 || lengthArgs[0] >= params) throw new Error('qstr filter: the lookup should compare its length argument with one-byte lengths');

  m.addGlobal(QSTR_FILTER_GLOBAL, binaryen.i32, true, m.i32.const(0));
  // Exported until the bake has set it, so that the optimiser does not fold it to its initial 0.
  m.addGlobalExport(QSTR_FILTER_GLOBAL, QSTR_FILTER_GLOBAL);

  // In the lookup, once the hash is known: a clear bit means no qstr has this hash.
  {
    const h = () => m.local.get(hash, binaryen.i32);
    const bit = bitExpr(m, h);
    const absent = m.i32.eqz(m.i32.and(m.i32.load8_u(0, 1, bit.address()), bit.mask()));
    const check = m.if(filterInstalled(m), m.if(absent, m.return(m.i32.const(0))));
    const { block, index } = parentBlock(body, sets[0]);
    BlockNode.setChildAt(block, index, m.block(null, [sets[0], check]));
  }
  {
    const tooLong = m.i32.gt_u(m.local.get(lengthArgs[0], binaryen.i32), m.i32.const(MAX_QSTR_BYTES));
    const fn = m.getFunction(find);
    FunctionNode.setBody(fn, m.block(null, [m.if(tooLong, m.return(m.i32.const(0))), body], binaryen.i32));
  }
  // In the append, with the new entry's hash: set its bit.
  {
    const stored = info(hashStores[0]).value;
    const h = () => m.local.get(info(stored).index as number, binaryen.i32);
    const bit = bitExpr(m, h);
    const set = m.i32.store8(0, 1, bit.address(), m.i32.or(m.i32.load8_u(0, 1, bit.address()), bit.mask()));
    const { block, index } = parentBlock(bodyOf(m, append), hashStores[0]);
    BlockNode.setChildAt(block, index, m.block(null, [hashStores[0], m.if(filterInstalled(m), set)]));
  }
  return { find, append, lastPoolAddress };
}

/** djb2 as MicroPython's qstr_compute_hash: 16 bits, never 0. */
function qstrHash(bytes: Uint8Array): number {
  let h = 5381;
  for (const b of bytes) h = (Math.imul(h, 33) ^ b) >>> 0;
  return h & 0xffff || 1;
}

export interface QstrFilterFill {
  /** Address of the bitset. */
  address: number;
  pools: number;
  qstrs: number;
  distinctHashes: number;
}

/**
 * Allocates the bitset in a running (not yet baked) instance and sets the bit of every qstr in every
 * pool. Each entry's stored hash is checked against its bytes, so a wrong pool layout stops the build.
 */
export function fillQstrFilter(inst: EngineInstance, lastPoolAddress: number): QstrFilterFill {
  const address = inst.call((e) => e.malloc(QSTR_FILTER_BYTES));
  if (!address) throw new Error('qstr filter: malloc failed');
  const bits = new Uint8Array(QSTR_FILTER_BYTES);
  const mem = inst.memory;
  const L = QSTR_POOL_LAYOUT;
  let pools = 0;
  let qstrs = 0;
  let expected = -1;
  for (let pool = mem.u32(lastPoolAddress); pool !== 0; pool = mem.u32(pool + L.prev)) {
    if (++pools > 64) throw new Error('qstr filter: the pool list does not end');
    const len = mem.u32(pool + L.len);
    const totalPrevLen = mem.u32(pool + L.totalPrevLen) & 0x7fffffff;
    if (expected < 0) expected = totalPrevLen + len;
    const hashes = mem.u32(pool + L.hashes);
    const lengths = mem.u32(pool + L.lengths);
    for (let i = 0; i < len; i++) {
      const hash = mem.bytes(hashes + 2 * i, 2);
      const h = hash[0] | (hash[1] << 8);
      const data = mem.bytes(mem.u32(pool + L.qstrs + 4 * i), mem.bytes(lengths + i, 1)[0]);
      // Entry 0 of the first pool is the null qstr: no bytes, hash 0.
      if (h !== qstrHash(data) && !(totalPrevLen === 0 && i === 0 && h === 0)) {
        throw new Error(`qstr filter: pool entry ${totalPrevLen + i} has hash ${h}, its bytes hash to ${qstrHash(data)}: wrong pool layout`);
      }
      bits[h >> 3] |= 1 << (h & 7);
      qstrs++;
    }
  }
  if (qstrs !== expected) throw new Error(`qstr filter: walked ${qstrs} qstrs, the last pool says ${expected}`);
  mem.bytes(address, QSTR_FILTER_BYTES).set(bits);
  const distinctHashes = bits.reduce((n, b) => n + popcount(b), 0);
  return { address, pools, qstrs, distinctHashes };
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}
