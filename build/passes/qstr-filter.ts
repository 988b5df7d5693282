// Every new str goes through qstr_find_strn, which looks for an interned string (qstr) with the same
// bytes so it can be reused: it hashes the bytes, then scans every qstr pool (the interpreter's own
// names, then every pool created at run time) comparing each entry's hash. Most new strings are not
// interned, so that scan nearly always ends empty-handed, and it was the largest single cost of
// string-heavy programs (a third of their time unmetered, half metered). A str that is interned (a
// dict key read by json.loads equal to a builtin's name, "id", say) paid the whole scan of the pools
// made at run time (about 500 names: the prelude's), then a binary search of the interpreter's.
//
// So: a table of 2^14 slots of 16 bits, indexed by the low 14 bits of the 16-bit qstr hash. A slot
// holds 0 (no qstr has a hash there), the one qstr that has (its number), or 0xFFFF (more than one, or
// one added at run time: scan as before). The lookup returns "not found" at once on 0, compares the one
// qstr's hash, length and bytes on a number, and scans as before on 0xFFFF. No slot is ever 0 or
// another qstr's number for an existing qstr: the bake fills it from every pool (checking each entry's
// stored hash against its bytes, so a misread layout stops the build) and the one place that appends
// to a pool sets the new entry's slot to 0xFFFF. A false "not found" would let a second qstr with the
// same bytes be created, and names are compared by qstr: attribute lookups would fail.
//
// The table is a 32 KiB block malloc'd at bake time; its address is a wasm global (0 before the bake:
// no filtering), so guest code can at worst corrupt the table's bytes, which only changes the results
// of its own lookups, never where the filter reads or writes (a corrupt number is looked up in the pools
// with the same bounds checks as any).
//
// Found by structure: qstr_find_strn is the function that computes the djb2 hash (`h * 33 ^ byte`,
// truncated to 16 bits) and compares it with a `load16_u` from the pools it walks from one static
// pointer (the last pool); the append is the only function storing a computed value to that pointer,
// and its one `store16` writes the new entry's hash. The byte comparison the slot check calls is the
// one the scan calls (`memcmp(entry, str, len) == 0`).
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';
import type { EngineInstance } from '../../src/guests/micropython/instance.js';

export const QSTR_FILTER_GLOBAL = 'pyfence_qstr_filter';
/** Slots of the table: indexed by the hash's low 14 bits (1,541 baked names: 91% alone in theirs). */
export const QSTR_FILTER_SLOT_BITS = 14;
const SLOT_MASK = (1 << QSTR_FILTER_SLOT_BITS) - 1;
/** Two bytes a slot. */
export const QSTR_FILTER_BYTES = 2 << QSTR_FILTER_SLOT_BITS;
/** A slot shared by more than one qstr, or holding one added at run time: scan the pools. */
export const QSTR_SLOT_SCAN = 0xffff;

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
  /** The byte comparison the scan calls: memcmp(entry, str, len), 0 when equal. */
  compare: string;
  /** Which parameter of the lookup is the length (the other is the bytes). */
  lengthParam: number;
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

/** The address of hash h's slot: `filter + ((h & mask) << 1)`. */
const slotAddress = (m: Module, h: () => number) =>
  m.i32.add(m.global.get(QSTR_FILTER_GLOBAL, binaryen.i32), m.i32.shl(m.i32.and(h(), m.i32.const(SLOT_MASK)), m.i32.const(1)));

/** The one function the scan calls as `eqz(call f(entry, str, len))`: memcmp. */
function byteComparison(body: number): string {
  const targets = new Set<string>();
  for (const e of expressions(body)) {
    if (kind(e) !== binaryen.UnaryId || info(e).op !== binaryen.EqZInt32) continue;
    const c = info(e).value;
    if (kind(c) === binaryen.CallId && (info(c).operands as number[]).length === 3) targets.add(info(c).target as string);
  }
  if (targets.size !== 1) throw new Error(`qstr filter: expected the scan to compare bytes with one function, found ${targets.size}`);
  return [...targets][0];
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

  const compare = byteComparison(body);

  m.addGlobal(QSTR_FILTER_GLOBAL, binaryen.i32, true, m.i32.const(0));
  // Exported until the bake has set it, so that the optimiser does not fold it to its initial 0.
  m.addGlobalExport(QSTR_FILTER_GLOBAL, QSTR_FILTER_GLOBAL);

  // In the lookup, once the hash is known: its slot says "none", "this one" or "scan".
  {
    const fn = m.getFunction(find);
    const [slot, pool, entry] = [0, 1, 2].map(() => FunctionNode.addVar(fn, binaryen.i32));
    const get = (k: number) => m.local.get(k, binaryen.i32);
    const k = (n: number) => m.i32.const(n);
    const L = QSTR_POOL_LAYOUT;
    const str = lengthArgs[0] === 0 ? 1 : 0;
    const found = 'pyfence_qstr_pool_found';
    const walk = 'pyfence_qstr_pool_walk';
    const notHere = (cond: number) => m.if(cond, m.return(k(0)));
    // The pool holding qstr `slot`: the first, from the last, whose numbers start at or below it.
    const findPool = m.block(found, [
      m.local.set(pool, m.i32.load(0, 4, k(lastPoolAddress))),
      m.loop(walk, m.block(null, [
        notHere(m.i32.eqz(get(pool))),
        m.br(found, m.i32.ge_u(get(slot), m.i32.and(m.i32.load(L.totalPrevLen, 4, get(pool)), k(0x7fffffff)))),
        m.local.set(pool, m.i32.load(L.prev, 4, get(pool))),
        m.br(walk),
      ])),
    ]);
    const one = m.block(null, [
      findPool,
      m.local.set(entry, m.i32.sub(get(slot), m.i32.and(m.i32.load(L.totalPrevLen, 4, get(pool)), k(0x7fffffff)))),
      notHere(m.i32.ge_u(get(entry), m.i32.load(L.len, 4, get(pool)))),
      notHere(m.i32.ne(get(hash), m.i32.load16_u(0, 2, m.i32.add(m.i32.load(L.hashes, 4, get(pool)), m.i32.shl(get(entry), k(1)))))),
      notHere(m.i32.ne(get(lengthArgs[0]), m.i32.load8_u(0, 1, m.i32.add(m.i32.load(L.lengths, 4, get(pool)), get(entry))))),
      notHere(m.call(compare, [m.i32.load(L.qstrs, 4, m.i32.add(get(pool), m.i32.shl(get(entry), k(2)))), get(str), get(lengthArgs[0])], binaryen.i32)),
      m.return(get(slot)),
    ]);
    const check = m.if(
      filterInstalled(m),
      m.block(null, [
        m.local.set(slot, m.i32.load16_u(0, 2, slotAddress(m, () => get(hash)))),
        notHere(m.i32.eqz(get(slot))),
        m.if(m.i32.ne(get(slot), k(QSTR_SLOT_SCAN)), one),
      ]),
    );
    const { block, index } = parentBlock(body, sets[0]);
    BlockNode.setChildAt(block, index, m.block(null, [sets[0], check]));
  }
  {
    const tooLong = m.i32.gt_u(m.local.get(lengthArgs[0], binaryen.i32), m.i32.const(MAX_QSTR_BYTES));
    const fn = m.getFunction(find);
    FunctionNode.setBody(fn, m.block(null, [m.if(tooLong, m.return(m.i32.const(0))), body], binaryen.i32));
  }
  // In the append, with the new entry's hash: its slot now says "scan".
  {
    const stored = info(hashStores[0]).value;
    const h = () => m.local.get(info(stored).index as number, binaryen.i32);
    const set = m.i32.store16(0, 2, slotAddress(m, h), m.i32.const(QSTR_SLOT_SCAN));
    const { block, index } = parentBlock(bodyOf(m, append), hashStores[0]);
    BlockNode.setChildAt(block, index, m.block(null, [hashStores[0], m.if(filterInstalled(m), set)]));
  }
  return { find, append, lastPoolAddress, compare, lengthParam: lengthArgs[0] };
}

/** djb2 as MicroPython's qstr_compute_hash: 16 bits, never 0. */
function qstrHash(bytes: Uint8Array): number {
  let h = 5381;
  for (const b of bytes) h = (Math.imul(h, 33) ^ b) >>> 0;
  return h & 0xffff || 1;
}

export interface QstrFilterFill {
  /** Address of the slot table. */
  address: number;
  pools: number;
  qstrs: number;
  /** Slots naming one qstr (looked up without a scan). */
  singleSlots: number;
  /** Slots shared by more than one qstr (their lookups scan). */
  sharedSlots: number;
}

/**
 * Allocates the slot table in a running (not yet baked) instance and fills it from every qstr in every
 * pool. Each entry's stored hash is checked against its bytes, so a wrong pool layout stops the build.
 */
export function fillQstrFilter(inst: EngineInstance, lastPoolAddress: number): QstrFilterFill {
  const address = inst.call((e) => e.malloc(QSTR_FILTER_BYTES));
  if (!address) throw new Error('qstr filter: malloc failed');
  const slots = new Uint16Array(QSTR_FILTER_BYTES / 2);
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
      qstrs++;
      // Entry 0 of the first pool is the null qstr: no bytes, hash 0; no lookup finds it.
      if (totalPrevLen === 0 && i === 0 && h === 0) continue;
      if (h !== qstrHash(data)) {
        throw new Error(`qstr filter: pool entry ${totalPrevLen + i} has hash ${h}, its bytes hash to ${qstrHash(data)}: wrong pool layout`);
      }
      const q = totalPrevLen + i;
      if (q >= QSTR_SLOT_SCAN) throw new Error(`qstr filter: qstr ${q} does not fit a slot`);
      const s = h & SLOT_MASK;
      slots[s] = slots[s] === 0 ? q : QSTR_SLOT_SCAN;
    }
  }
  if (qstrs !== expected) throw new Error(`qstr filter: walked ${qstrs} qstrs, the last pool says ${expected}`);
  const bytes = new Uint8Array(QSTR_FILTER_BYTES);
  const view = new DataView(bytes.buffer);
  slots.forEach((q, s) => view.setUint16(2 * s, q, true)); // little-endian, as the guest reads them
  mem.bytes(address, QSTR_FILTER_BYTES).set(bytes);
  const sharedSlots = slots.filter((q) => q === QSTR_SLOT_SCAN).length;
  const singleSlots = slots.filter((q) => q !== 0).length - sharedSlots;
  return { address, pools, qstrs, singleSlots, sharedSlots };
}
