// MicroPython's dicts and sets (mp_map_lookup, mp_set_lookup) probe linearly from `hash % alloc` and
// grow only when a search has gone round the whole table without finding a free slot. Two things make
// lookups of absent keys walk long runs of occupied slots:
// - a table may fill completely: inserting 'k' + str(i) keys is quadratic;
// - small ints hash to themselves and short strings to nearby values, so keys that are progressions
//   (range(n), i * 7 % m, 'k' + str(i)) occupy runs of neighbouring slots: `i in d` for an absent i
//   that lands in the run of range(10000) scans thousands of slots, and `&` of two progressions does
//   that for every element.
// So: a new key is inserted only while the table is under three quarters full, else the table is
// rehashed first (the rehash MicroPython does when full, earlier), and the probe start is a mix of
// the hash (multiply by an odd constant, fold the high bits down) rather than the hash itself. Only
// insertions of absent keys grow a table, as before, so updating existing keys while iterating behaves
// as it always did. Iteration order is the table's order, as before: different from stock
// MicroPython's for the same keys, but a function of the keys and the insertion history, deterministic.
//
// Found by structure, once per kind of table: the lookup function and its rehash function call each
// other; the lookup's `call rehash(table); br $restart` goes round the loop that computes
// `pos = hash % alloc` (the only probe start: the rehash re-inserts through the lookup); inside that
// loop, every `used += k` store marks the insertion of a new key, and the check goes in front of it.
import binaryen from 'binaryen';
import { BinaryNode, BlockNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, kind } from '../walk.js';

export interface HashTableReport {
  lookup: string;
  /** The local holding the hash, whose value the probe start now mixes. */
  hashLocal: number;
  rehash: string;
  /** Byte offset of `alloc` in the table struct. */
  allocOffset: number;
  /** Byte offset of the word holding `used`, and the shift that extracts it (map: bit fields below). */
  usedOffset: number;
  usedShift: number;
  /** Insertion sites given the growth check. */
  insertions: number;
}

export interface HashTablesReport {
  map: HashTableReport;
  set: HashTableReport;
}

/** Grow when used / alloc would reach this before an insertion (as `used * DEN >= alloc * NUM`). */
const LOAD_NUM = 3;
const LOAD_DEN = 4;

interface Candidate {
  lookup: string;
  rehash: string;
  restart: number;
}

const callsFunction = (m: Module, caller: string, callee: string) =>
  expressions(binaryen.getFunctionInfo(m.getFunction(caller)).body).some((e) => kind(e) === binaryen.CallId && info(e).target === callee);

const isTableArg = (e: number) => kind(e) === binaryen.LocalGetId && info(e).index === 0;

/** `call R (local.get 0)` followed by `br $loop`, R calling back into the lookup: the rehash-and-retry. */
function retries(m: Module, lookup: string): Candidate[] {
  const body = binaryen.getFunctionInfo(m.getFunction(lookup)).body;
  const all = expressions(body);
  const loops = new Map(all.filter((e) => kind(e) === binaryen.LoopId).map((l) => [info(l).name as string, l]));
  const found: Candidate[] = [];
  for (const b of all.filter((e) => kind(e) === binaryen.BlockId)) {
    const kids = info(b).children as number[];
    for (let i = 0; i + 1 < kids.length; i++) {
      const [call, br] = [kids[i], kids[i + 1]];
      if (kind(call) !== binaryen.CallId || kind(br) !== binaryen.BreakId || info(br).condition) continue;
      const args = info(call).operands as number[];
      const loop = loops.get(info(br).name as string);
      if (!loop || args.length !== 1 || !isTableArg(args[0])) continue;
      const rehash = info(call).target as string;
      if (m.getFunction(rehash) && !binaryen.getFunctionInfo(m.getFunction(rehash)).module && callsFunction(m, rehash, lookup)) {
        found.push({ lookup, rehash, restart: loop });
      }
    }
  }
  return found;
}

/** `load offset=K (local.get 0)`, possibly through a local.tee: K, else NaN. */
function tableField(e: number): number {
  if (kind(e) === binaryen.LocalSetId) e = info(e).value;
  return kind(e) === binaryen.LoadId && info(e).bytes === 4 && isTableArg(info(e).ptr) ? (info(e).offset as number) : NaN;
}

/** The probe start `hash % alloc` in the restart loop (the other `%`s step from a slot: `(pos + 1) % alloc`). */
function probeStart(restart: number): { rem: number; allocOffset: number; hashLocal: number } {
  const starts = expressions(restart).filter(
    (e) => kind(e) === binaryen.BinaryId && info(e).op === binaryen.RemUInt32 && kind(info(e).left) === binaryen.LocalGetId,
  );
  if (starts.length !== 1 || Number.isNaN(tableField(info(starts[0]).right))) {
    throw new Error(`hash tables: expected one probe start hash % alloc, found ${starts.length}`);
  }
  return { rem: starts[0], allocOffset: tableField(info(starts[0]).right), hashLocal: info(info(starts[0]).left).index as number };
}

/** An odd multiplier (2^32 / golden ratio): consecutive and evenly spaced hashes land far apart. */
const MIX_MULTIPLIER = 0x9e3779b1 | 0;

/** `h * MIX_MULTIPLIER` with its high half folded into the low bits (which `% alloc` mostly keeps). */
function mixed(m: Module, hashLocal: number): number {
  const product = () => m.i32.mul(m.local.get(hashLocal, binaryen.i32), m.i32.const(MIX_MULTIPLIER));
  return m.i32.xor(product(), m.i32.shr_u(product(), m.i32.const(16)));
}

interface Insertion {
  block: number;
  index: number;
  offset: number;
  increment: number;
}

/** `store offset=U (local.get 0) (add (load offset=U (local.get 0)) k)` inside the restart loop. */
function insertions(restart: number): Insertion[] {
  const out: Insertion[] = [];
  for (const b of expressions(restart).filter((e) => kind(e) === binaryen.BlockId)) {
    (info(b).children as number[]).forEach((s, index) => {
      if (kind(s) !== binaryen.StoreId || info(s).bytes !== 4 || !isTableArg(info(s).ptr)) return;
      const v = info(s).value;
      if (kind(v) !== binaryen.BinaryId || info(v).op !== binaryen.AddInt32) return;
      if (tableField(info(v).left) !== info(s).offset || kind(info(v).right) !== binaryen.ConstId) return;
      const increment = info(info(v).right).value as number;
      if (increment > 0) out.push({ block: b, index, offset: info(s).offset as number, increment });
    });
  }
  return out;
}

export function improveHashTables(m: Module): HashTablesReport {
  const candidates: Candidate[] = [];
  for (const name of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    if (binaryen.expandType(f.params).length !== 3 || f.results !== binaryen.i32) continue;
    candidates.push(...retries(m, name));
  }
  const tables = candidates.map((c) => {
    const start = probeStart(c.restart);
    const alloc = start.allocOffset;
    const sites = insertions(c.restart);
    const fields = [...new Set(sites.map((s) => `${s.offset}:${s.increment}`))];
    if (sites.length !== 2 || fields.length !== 1) {
      throw new Error(`hash tables: ${c.lookup} should have two used++ sites of one form, found ${sites.length} (${fields.join(' ')})`);
    }
    return { c, alloc, sites, start };
  });
  const byAlloc = (offset: number, what: string) => {
    const t = tables.filter((t) => t.alloc === offset);
    if (t.length !== 1) throw new Error(`hash tables: expected one ${what} lookup (alloc at offset ${offset}), found ${t.length} of ${tables.length} rehash-and-retry loops`);
    return t[0];
  };
  // mp_map_t: { bit fields and used (word 0, used << 3), alloc, table }; mp_set_t: { alloc, used, table }.
  const map = byAlloc(4, 'mp_map_lookup');
  const set = byAlloc(0, 'mp_set_lookup');
  if (tables.length !== 2) throw new Error(`hash tables: expected two rehash-and-retry loops, found ${tables.length}`);
  const expected = [
    { t: map, usedOffset: 0, increment: 8 },
    { t: set, usedOffset: 4, increment: 1 },
  ];
  const report = expected.map(({ t, usedOffset, increment }) => {
    const s = t.sites[0];
    if (s.offset !== usedOffset || s.increment !== increment) {
      throw new Error(`hash tables: ${t.c.lookup} counts used at offset ${s.offset} by ${s.increment}, expected ${usedOffset} by ${increment}`);
    }
    const usedShift = Math.log2(increment);
    for (const site of t.sites) guardInsertion(m, t.c, site, t.alloc, usedShift);
    BinaryNode.setLeft(t.start.rem, mixed(m, t.start.hashLocal));
    return { lookup: t.c.lookup, hashLocal: t.start.hashLocal, rehash: t.c.rehash, allocOffset: t.alloc, usedOffset, usedShift, insertions: t.sites.length };
  });
  return { map: report[0], set: report[1] };
}

/** `if (used * DEN >= alloc * NUM) { rehash(table); continue restart; }` in front of the used++ store. */
function guardInsertion(m: Module, c: Candidate, site: Insertion, alloc: number, usedShift: number): void {
  const table = () => m.local.get(0, binaryen.i32);
  const used = m.i32.shr_u(m.i32.load(site.offset, 4, table()), m.i32.const(usedShift));
  const full = m.i32.ge_u(m.i32.mul(used, m.i32.const(LOAD_DEN)), m.i32.mul(m.i32.load(alloc, 4, table()), m.i32.const(LOAD_NUM)));
  const grow = m.if(full, m.block(null, [m.call(c.rehash, [table()], binaryen.getFunctionInfo(m.getFunction(c.rehash)).results), m.br(info(c.restart).name as string)]));
  const store = BlockNode.getChildAt(site.block, site.index);
  BlockNode.setChildAt(site.block, site.index, m.block(null, [grow, store]));
}
