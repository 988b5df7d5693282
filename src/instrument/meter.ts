// Load-time instrumentation of any module, as a direct rewrite of its binary (decode the sections,
// insert charges into the code, re-encode): deterministic fuel, host-checked growth, and the refusal
// of every feature the fence does not implement. Linear in the module's size.
//
// The cost model (one unit per instruction, CALL_UNITS per call: charged >= executed, K = 1), sound
// by construction:
// - Every straight-line segment (up to and including the next loop, if, else, end, br, br_table,
//   return, unreachable or return_call; across block entries and br_ifs) adds its instructions'
//   cost to a per-function i32 local `acc` when it starts. A register add, no check.
// - The local settles into the fuel global (global -= acc; acc = 0) at every loop header once it
//   reaches LOOP_BATCH, before every call, before every bulk operation, and at every function exit:
//   the body is wrapped in a block, `return` becomes a branch to it, and the settle follows it.
//   Nothing is left in a local when a function returns. A check reads the global and calls the host
//   when it is negative: every settle checks, except before a call of a defined function, which
//   checks at its entry.
// - Every call settles first, and every call is checked: a defined function checks the global at its
//   entry, a call of an import or through a table right before it. So a descent of calls (recursion)
//   passes a check in every frame, and nothing is left in the local of a frame that an exception
//   unwinds.
// - A function without loops runs each of its instructions at most once per call. When it is small
//   (up to FLAT_MAX_UNITS instructions) or no run of it can pass more than FLAT_MAX_PATH units (its
//   longest path through blocks, arms and branches: longestPath), it charges that bound at entry and
//   checks, and then needs no local, no settle before its calls (its callees charge their own
//   instructions, and a check in it came at most FLAT_MAX_PATH units before any of them) and none
//   at its exit: one check a call instead of a check, a settle per call in it and a settle at exit.
//   Most of an interpreter's helpers are such functions (on MicroPython, the checks and settles
//   around calls were about half of the meter's overhead: BENCHMARKS.md). A leaf (such a function
//   that also calls nothing and cannot throw) needs no settle before a call of it; one only ever
//   called directly is charged by its callers instead, its count part of each call's cost in the
//   caller's segment (leafUnits). One that does call is charged and checked by each of its callers
//   instead, right before the call, when every caller can (called only directly, never by a tail
//   call, never from a function itself charged whole): the caller settles its local there anyway,
//   and the callee's charge joins that write of the global (flatFunctions; on CPython, whose
//   interpreter calls small helpers for most of what it does, one write of the global per call
//   instead of two).
// - memory.fill/copy/init charge 1 unit per BULK_BYTES_PER_UNIT bytes, table.fill/copy/init 1 per
//   TABLE_ELEMENTS_PER_UNIT elements, before they run. A memory.fill or memory.copy of up to
//   BULK_CHUNK_BYTES is charged and checked in place and runs as it is; a longer one becomes a call
//   of one of two added functions that run it in chunks of BULK_CHUNK_BYTES, each charged and
//   checked first (one fill of fresh memory can take longer than a deadline's grace), bounds checked
//   up front so that an out-of-bounds operation traps before it writes anything, as the instruction
//   does.
// So fuel charged >= instructions executed, and between two checks of the global run at most
// LOOP_BATCH + the longest straight-line stretch of one function (no loop, no call) units, or a
// whole function without loops (at most FLAT_MAX_PATH units, or FLAT_MAX_UNITS instructions); the host
// (src/engine/fuel.ts) checks the deadline every FUEL_SLICE units of the global.
// - memory.grow and table.grow get their delta from a host import that sees the current size and the
//   delta and answers either the delta or -1 (which makes the grow fail): the cap holds whatever the
//   guest declared as its maximum, and it lives outside linear memory.
// The added import names cannot collide with the guest's: it was refused if it imported from "pyfence".
//
// The interpreters' builds (build/build.ts, build/cpython/build.ts) meter with the same rewrite in its
// trusted mode (meterTrustedBinary): the same cost model, plus what a trusted build needs and a guest
// module is refused. Exception handling (both forms): a throw leaves the function without passing its
// exit settle, so every throw, rethrow and throw_ref settles and checks first (calls, which may throw
// too, settle already); a catch starts a segment as `else` does. memory.grow and table.grow stay as
// the build has them (the interpreters grow through the host themselves), and only the fuel import
// and the fuel global's export are added: no metadata, no memory export.
//
// Every check's `if` (and a loop header's `if` around its settle) is hinted unlikely in a branch hint
// section before the code (branch-hints.ts: V8 then compiles the call to the host as deferred code,
// not spilling registers around it on the hot path). A guest module gets the hints from this rewrite;
// a trusted build, whose code binaryen optimizes after it, from a scan of its final code.
import { monotonicMs } from '../core/clock.js';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../engine/abi.js';
import { ByteWriter, readUleb, sleb32, uleb, wasmName, wasmSection } from '../engine/wasm-binary.js';
import { BRANCH_HINT_SECTION } from './branch-hints.js';
import { decodeBodies, grown, kindBits, type DecodedCode } from './decoded-code.js';
import { decode, Kind, UnsupportedFeature, type Instr } from './instructions.js';
import { Cursor, Malformed, readSections, SectionId, type FuncType, type ModuleSections } from './sections.js';

export const MEMORY_GROW_IMPORT = 'memory_grow_delta';
export const TABLE_GROW_IMPORT = 'table_grow_delta';
/** The guest's memory, exported under this name too (WASI needs it; usage reports its size). */
export const MEMORY_EXPORT = 'pyfence_memory';
export const META_SECTION = 'pyfence.meta';

/** A function without loops, up to this many instructions (not units), is charged whole at entry. */
export const FLAT_MAX_UNITS = 64;
/**
 * What a call costs (call, call_indirect, return_call, return_call_indirect); every other instruction
 * costs 1. A call's CPU is many times an arithmetic instruction's (a frame, a stack check; for V8
 * about as much as 100 of them in a loop): at 1 unit a call-heavy module got 10x less fuel per
 * CPU-second than an interpreter's register loops (bench/calibrate.ts; BENCHMARKS.md).
 */
export const CALL_UNITS = 20;
const IS_CALL = new Uint8Array(32);
for (const k of [Kind.Call, Kind.CallIndirect, Kind.ReturnCall, Kind.ReturnCallIndirect]) IS_CALL[k] = 1;
/** A loop header settles the local with the global once it holds this many units. */
export const LOOP_BATCH = 4096;
/** memory.fill/copy/init: one unit per this many bytes (log2 below). */
export const BULK_BYTES_PER_UNIT = 8;
const BULK_BYTES_SHIFT = 3;
/** table.fill/copy/init: one unit per this many elements (log2 below). */
export const TABLE_ELEMENTS_PER_UNIT = 4;
const TABLE_ELEMENTS_SHIFT = 2;
/** memory.fill/copy run in chunks of this many bytes, each charged and checked before it runs. */
export const BULK_CHUNK_BYTES = 1 << 20;
/** Functions added as imports, after the guest's own: every defined function's index moves by this. */
const ADDED_IMPORTS = 3;
/** A trusted build gets only the fuel import. */
const TRUSTED_ADDED_IMPORTS = 1;

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'ref';

export interface Signature {
  params: ValueType[];
  results: ValueType[];
}

export interface MeterReport {
  functions: number;
  loopChecks: number;
  /** Functions without loops, charged their whole body once at entry. */
  entryChecks: number;
  /** Leaves only ever called directly: charged by their callers (see leafUnits). */
  callerCharged: number;
  /** Of entryChecks: charged and checked by each caller right before the call instead (flatFunctions). */
  callerChecked: number;
  callSettles: number;
  bulkCharges: number;
  growSites: number;
  /** Trusted builds: throw, rethrow and throw_ref sites, each settled first. */
  throwSettles: number;
}

export interface ModuleMeta {
  /** The guest's own function imports and exports with their signatures (the JS API has no types). */
  imports: ({ module: string; name: string } & Signature)[];
  exports: Record<string, Signature>;
  memoryInitialPages: number | null;
  memoryMaximumPages: number | null;
  tableInitial: number;
  report: MeterReport;
  /** Set when the module uses a feature the fence does not support: every run is refused (kind denied). */
  denied?: string;
  /** How long instrumenting took (ms), when this process did it. */
  instrumentMs?: number;
}

/** Thrown for modules the instrumenter refuses as invalid; the message is for the user. */
export class RefusedModule extends Error {}

const EMPTY_MODULE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/**
 * The instrumented binary of `original`, with its metadata in a custom section. A module using a
 * feature the fence lacks becomes an empty module whose metadata says why (`denied`): runs answer
 * kind denied, as for ungranted imports. Throws RefusedModule for a malformed or invalid module.
 */
export function instrumentBinary(original: Uint8Array): { bytes: Uint8Array; meta: ModuleMeta } {
  const started = monotonicMs();
  let bytes: Uint8Array;
  let meta: ModuleMeta;
  try {
    ({ bytes, meta } = rewrite(original));
  } catch (e) {
    if (e instanceof UnsupportedFeature) {
      meta = { imports: [], exports: {}, memoryInitialPages: null, memoryMaximumPages: null, tableInitial: 0, report: emptyReport(), denied: e.message };
      bytes = new Uint8Array(EMPTY_MODULE);
    } else {
      if (!WebAssembly.validate(original as Uint8Array<ArrayBuffer>)) throw new RefusedModule(`invalid module: ${v8Error(original)}`);
      if (e instanceof Malformed || e instanceof RangeError || e instanceof RefusedModule) throw new RefusedModule(`cannot instrument this module: ${e.message}`);
      throw e;
    }
  }
  // Validated after the feature check, so that a feature V8 lacks too is named rather than a parse error.
  if (!meta.denied && !WebAssembly.validate(original as Uint8Array<ArrayBuffer>)) throw new RefusedModule(`invalid module: ${v8Error(original)}`);
  const section = wasmSection(SectionId.Custom, [...wasmName(META_SECTION), ...new TextEncoder().encode(JSON.stringify(meta))]);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return { bytes: out, meta: { ...meta, instrumentMs: monotonicMs() - started } };
}

function v8Error(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    return 'rejected by the validator';
  } catch (e) {
    return (e as Error).message;
  }
}

function emptyReport(): MeterReport {
  return { functions: 0, loopChecks: 0, entryChecks: 0, callerCharged: 0, callerChecked: 0, callSettles: 0, bulkCharges: 0, growSites: 0, throwSettles: 0 };
}

const VALUE_NAMES: Record<number, ValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };
const signature = (t: FuncType): Signature => ({
  params: t.params.map((v) => VALUE_NAMES[v] ?? 'ref'),
  results: t.results.map((v) => VALUE_NAMES[v] ?? 'ref'),
});

/** Opcodes the rewrite emits: a const enum, its values inlined (an object's are read at every opcode emitted). */
const enum OP {
  block = 0x02, if = 0x04, else = 0x05, end = 0x0b, br = 0x0c, call = 0x10,
  localGet = 0x20, localSet = 0x21, localTee = 0x22, globalGet = 0x23, globalSet = 0x24,
  memorySize = 0x3f, i32Const = 0x41, i32LtS = 0x48, i32GtU = 0x4b, i32GeU = 0x4f, i32Add = 0x6a, i32Sub = 0x6b, i32ShrU = 0x76,
  refFunc = 0xd2, returnCall = 0x12, misc = 0xfc,
}
const TABLE_SIZE = 16;
const MEMORY_COPY = 10;
const MEMORY_FILL = 11;
const VOID = 0x40;
const I32 = 0x7f;

interface Context {
  m: ModuleSections;
  /** An interpreter's build: exception handling accepted, growth left as it is (meterTrustedBinary). */
  trusted: boolean;
  remap: (f: number) => number;
  /** remap, for a reference that is not a direct call (export, element, start, ref.func): marks it. */
  reference: (f: number) => number;
  /** Defined functions (by their index among the defined) referenced other than by a direct call. */
  referenced: Uint8Array;
  exhausted: number;
  memoryGrow: number;
  tableGrow: number;
  fuelGlobal: number;
  /** The added chunked memory.fill and memory.copy (-1 without a memory). */
  fill: number;
  copy: number;
  blockType: (t: FuncType) => number[];
  report: MeterReport;
  exports?: Record<string, Signature>;
  /** A guest module's branch hints (its checks' ifs, unlikely): the custom section's payload. */
  hints?: Uint8Array;
}

/**
 * Meters an interpreter's build (build/build.ts, build/cpython/build.ts) with the same cost model as
 * any module: the trusted mode of the rewrite (see the top of this file). Throws for anything it
 * cannot meter; the caller is the build, so there is no `denied`.
 */
export function meterTrustedBinary(original: Uint8Array): { bytes: Uint8Array; report: MeterReport } {
  const { bytes, meta } = rewrite(original, true);
  return { bytes, report: meta.report };
}

function rewrite(given: Uint8Array, trusted = false): { bytes: Uint8Array; meta: ModuleMeta } {
  // A plain Uint8Array (a Buffer has another map in V8): the rewriter's loops see one kind of array.
  const original = given.constructor === Uint8Array ? given : new Uint8Array(given.buffer, given.byteOffset, given.byteLength);
  const m = readSections(original, trusted);
  const types = m.types.slice();
  const typeIndex = (t: FuncType): number => {
    const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
    const found = types.findIndex((u) => same(u.params, t.params) && same(u.results, t.results));
    if (found >= 0) return found;
    types.push(t);
    return types.length - 1;
  };
  const exhaustedType = typeIndex({ params: [], results: [] });
  const growType = typeIndex({ params: [I32, I32], results: [I32] });
  const added = trusted ? TRUSTED_ADDED_IMPORTS : ADDED_IMPORTS;
  const remap = (f: number) => (f < m.funcImports ? f : f + added);
  const exhausted = m.funcImports;
  const referenced = new Uint8Array(m.funcTypes.length);
  const ctx: Context = {
    m,
    trusted,
    remap,
    reference: (f) => {
      if (f >= m.funcImports && f - m.funcImports < referenced.length) referenced[f - m.funcImports] = 1;
      return remap(f);
    },
    referenced,
    exhausted,
    memoryGrow: trusted ? -1 : exhausted + 1,
    tableGrow: trusted ? -1 : exhausted + 2,
    fuelGlobal: m.imports.filter((i) => i.kind === 3).length + countOf(m, SectionId.Global),
    fill: m.memory ? m.funcImports + added + m.funcTypes.length : -1,
    copy: m.memory ? m.funcImports + added + m.funcTypes.length + 1 : -1,
    blockType: (t) => (t.results.length === 0 ? [VOID] : t.results.length === 1 ? [t.results[0]] : uleb(typeIndex({ params: [], results: t.results }))),
    report: { ...emptyReport(), functions: m.funcTypes.length },
  };
  const bulkType = typeIndex({ params: [I32, I32, I32], results: [] });
  const helpers = m.memory ? [fillHelper(ctx), copyHelper(ctx)] : [];
  const rewritten = new Map<number, Uint8Array>();
  for (const s of m.sections) {
    if (s.id === SectionId.Code) rewritten.set(s.id, rewriteCode(ctx, s.start, s.end, helpers));
    else if (s.id === SectionId.Function) {
      const w = new ByteWriter();
      w.uleb(m.funcTypes.length + helpers.length);
      w.span(original, readUleb(original, s.start).next, s.end);
      for (let i = 0; i < helpers.length; i++) w.uleb(bulkType);
      rewritten.set(s.id, w.view());
    }
    else if (s.id === SectionId.Global) rewritten.set(s.id, rewriteGlobals(ctx, s.start, s.end));
    else if (s.id === SectionId.Export) rewritten.set(s.id, rewriteExports(ctx, s.start, s.end));
    else if (s.id === SectionId.Element) rewritten.set(s.id, rewriteElements(ctx, s.start, s.end));
    else if (s.id === SectionId.Start) rewritten.set(s.id, new Uint8Array(uleb(ctx.reference(readUleb(original, s.start).value))));
    else if (s.id !== SectionId.Custom && s.id !== SectionId.Type && s.id !== SectionId.Import) rewritten.set(s.id, original.subarray(s.start, s.end));
  }
  if (helpers.length && !rewritten.has(SectionId.Code)) {
    const fn = new ByteWriter();
    fn.uleb(helpers.length);
    for (let i = 0; i < helpers.length; i++) fn.uleb(bulkType);
    rewritten.set(SectionId.Function, fn.view());
    rewritten.set(SectionId.Code, rewriteCode(ctx, -1, -1, helpers));
  }
  if (!rewritten.has(SectionId.Global)) rewritten.set(SectionId.Global, rewriteGlobals(ctx, -1, -1));
  if (!rewritten.has(SectionId.Export)) rewritten.set(SectionId.Export, rewriteExports(ctx, -1, -1));
  // Types last: the code's wrapper blocks may have added some.
  rewritten.set(SectionId.Type, rewriteTypes(m, types));
  rewritten.set(SectionId.Import, rewriteImports(m, trusted ? [[FUEL_EXHAUSTED_IMPORT, exhaustedType]] : [[FUEL_EXHAUSTED_IMPORT, exhaustedType], [MEMORY_GROW_IMPORT, growType], [TABLE_GROW_IMPORT, growType]]));

  const w = new ByteWriter();
  w.bytes(EMPTY_MODULE);
  const order = [SectionId.Type, SectionId.Import, SectionId.Function, SectionId.Table, SectionId.Memory, SectionId.Tag, SectionId.Global, SectionId.Export, SectionId.Start, SectionId.Element, SectionId.DataCount, SectionId.Code, SectionId.Data];
  for (const id of order) {
    const payload = rewritten.get(id);
    if (id === SectionId.Code && ctx.hints) w.section(SectionId.Custom, ctx.hints);
    if (payload) w.section(id, payload);
  }
  for (const s of m.sections) {
    if (s.id !== SectionId.Custom || s.name === META_SECTION) continue; // a guest's own meta would pass for ours
    if (s.name === BRANCH_HINT_SECTION) continue; // its offsets are the code's before the rewrite
    if (s.name === 'name') {
      const names = rewriteNames(ctx, s.start, s.end);
      if (names) w.section(SectionId.Custom, names);
    } else w.section(SectionId.Custom, original.subarray(s.start, s.end));
  }

  const imports: ModuleMeta['imports'] = [];
  for (const i of m.imports) if (i.kind === 0) imports.push({ module: i.module, name: i.name, ...signature(m.types[i.type]) });
  const meta: ModuleMeta = {
    imports,
    exports: ctx.exports ?? {},
    memoryInitialPages: m.memory ? m.memory.initial : null,
    memoryMaximumPages: m.memory?.maximum ?? null,
    tableInitial: m.tables.reduce((sum, t) => sum + t.initial, 0),
    report: ctx.report,
  };
  return { bytes: w.view(), meta };
}

function countOf(m: ModuleSections, id: SectionId): number {
  const s = m.sections.find((x) => x.id === id);
  return s ? readUleb(m.bytes, s.start).value : 0;
}

function rewriteTypes(m: ModuleSections, types: FuncType[]): Uint8Array {
  const w = new ByteWriter();
  w.uleb(types.length);
  const s = m.sections.find((x) => x.id === SectionId.Type);
  if (s) w.span(m.bytes, readUleb(m.bytes, s.start).next, s.end);
  for (const t of types.slice(m.types.length)) {
    w.byte(0x60);
    w.uleb(t.params.length);
    w.bytes(t.params);
    w.uleb(t.results.length);
    w.bytes(t.results);
  }
  return w.view();
}

/** The guest's imports, then the added functions (name, type index), from HOST_IMPORT_MODULE. */
function rewriteImports(m: ModuleSections, added: [string, number][]): Uint8Array {
  const w = new ByteWriter();
  w.uleb(m.imports.length + added.length);
  const s = m.sections.find((x) => x.id === SectionId.Import);
  if (s) w.span(m.bytes, readUleb(m.bytes, s.start).next, s.end);
  for (const [name, type] of added) {
    w.bytes(wasmName(HOST_IMPORT_MODULE));
    w.bytes(wasmName(name));
    w.byte(0);
    w.uleb(type);
  }
  return w.view();
}

/** A constant expression, with ref.func indices moved. */
function copyExpr(ctx: Context, c: Cursor, w: ByteWriter): void {
  const ins: Instr = { kind: Kind.Plain, imm: 0, next: 0, index: 0 };
  for (;;) {
    if (c.at >= c.end) throw new Malformed('constant expression runs past its section');
    decode(c.bytes, c.at, ins);
    if (ins.kind === Kind.RefFunc) {
      w.byte(OP.refFunc);
      w.uleb(ctx.reference(ins.index));
    } else w.span(c.bytes, c.at, ins.next);
    c.at = ins.next;
    if (ins.kind === Kind.End) return;
  }
}

function rewriteGlobals(ctx: Context, start: number, end: number): Uint8Array {
  const w = new ByteWriter();
  if (start < 0) w.uleb(1);
  else {
    const c = new Cursor(ctx.m.bytes, start, end);
    const n = c.u32();
    w.uleb(n + 1);
    for (let i = 0; i < n; i++) {
      w.byte(c.byte()); // value type (a GC type fails the type section first; V8 checks the rest)
      w.byte(c.byte()); // mutability
      copyExpr(ctx, c, w);
    }
  }
  w.bytes([I32, 0x01, OP.i32Const, 0x00, OP.end]); // the fuel counter: (mut i32) (i32.const 0)
  return w.view();
}

function rewriteExports(ctx: Context, start: number, end: number): Uint8Array {
  const { m } = ctx;
  const w = new ByteWriter();
  const exports: Record<string, Signature> = {};
  const added: [string, number, number][] = [[FUEL_GLOBAL_EXPORT, 3, ctx.fuelGlobal]];
  if (m.memory && !ctx.trusted) added.push([MEMORY_EXPORT, 2, 0]);
  const body = new ByteWriter();
  const importTypes = m.imports.filter((x) => x.kind === 0).map((x) => x.type);
  let n = 0;
  if (start >= 0) {
    const c = new Cursor(m.bytes, start, end);
    n = c.u32();
    for (let i = 0; i < n; i++) {
      const nameStart = c.at;
      const name = c.name();
      if (name === FUEL_GLOBAL_EXPORT || name === MEMORY_EXPORT) throw new RefusedModule(`the export name "${name}" is reserved by the fence`);
      body.span(m.bytes, nameStart, c.at);
      const kind = c.byte();
      if (kind === 4 && !ctx.trusted) throw new UnsupportedFeature('exception handling (tags)');
      const index = c.u32();
      body.byte(kind);
      if (kind === 0) {
        body.uleb(ctx.reference(index));
        const type = index < m.funcImports ? importTypes[index] : m.funcTypes[index - m.funcImports];
        if (type === undefined) throw new Malformed(`export of function ${index} out of range`);
        exports[name] = signature(m.types[type]);
      } else body.uleb(index);
    }
  }
  w.uleb(n + added.length);
  w.append(body);
  for (const [name, kind, index] of added) {
    w.bytes(wasmName(name));
    w.byte(kind);
    w.uleb(index);
  }
  ctx.exports = exports;
  return w.view();
}

function rewriteElements(ctx: Context, start: number, end: number): Uint8Array {
  const c = new Cursor(ctx.m.bytes, start, end);
  const w = new ByteWriter();
  const n = c.u32();
  w.uleb(n);
  const funcs = () => {
    const k = c.u32();
    w.uleb(k);
    for (let i = 0; i < k; i++) w.uleb(ctx.reference(c.u32()));
  };
  const exprs = () => {
    const k = c.u32();
    w.uleb(k);
    for (let i = 0; i < k; i++) copyExpr(ctx, c, w);
  };
  for (let i = 0; i < n; i++) {
    const flags = c.u32();
    if (flags > 7) throw new Malformed(`element segment flags ${flags}`);
    w.uleb(flags);
    if (flags === 2 || flags === 6) w.uleb(c.u32()); // table index
    if (!(flags & 1)) copyExpr(ctx, c, w); // active: the offset
    if (flags & 3) {
      const t = c.byte(); // element kind (0x00) or reference type
      if (flags & 4 && t !== 0x70 && t !== 0x6f) throw new UnsupportedFeature('typed function references (element types)');
      w.byte(t);
    }
    if (flags & 4) exprs();
    else funcs();
  }
  return w.view();
}

/** The name section with function indices moved (function and local names; other kinds dropped). */
function rewriteNames(ctx: Context, start: number, end: number): Uint8Array | null {
  try {
    const c = new Cursor(ctx.m.bytes, start, end);
    c.name(); // "name"
    const w = new ByteWriter();
    w.bytes(wasmName('name'));
    while (c.at < end) {
      const id = c.byte();
      const size = c.u32();
      const subEnd = c.at + size;
      if (id === 1 || id === 2) {
        const sub = new ByteWriter();
        const s = new Cursor(c.bytes, c.at, subEnd);
        const n = s.u32();
        sub.uleb(n);
        for (let i = 0; i < n; i++) {
          sub.uleb(ctx.remap(s.u32()));
          const from = s.at;
          if (id === 1) s.name();
          else for (let k = s.u32(); k > 0; k--) (s.u32(), s.name());
          sub.span(c.bytes, from, s.at);
        }
        w.byte(id);
        w.uleb(sub.length);
        w.append(sub);
      } else if (ctx.trusted && id !== 3) {
        // Globals, tables, memories, types, tags...: indices that do not move (a build's later passes
        // find its globals by name). Labels (3) are dropped: the wrapper blocks shift them.
        w.byte(id);
        w.uleb(size);
        w.span(c.bytes, c.at, subEnd);
      }
      c.at = subEnd;
    }
    return w.view();
  } catch {
    return null; // a malformed name section only loses the names
  }
}

// The decoded instructions of the function body being rewritten (views of a DecodedCode), and its segments' costs.
let starts: Int32Array = new Int32Array(0);
let nexts: Int32Array = new Int32Array(0);
let kinds: Uint8Array = new Uint8Array(0);
let indices: Int32Array = new Int32Array(0);
let counts: Int32Array = new Int32Array(0);

/** What a leaf may not hold: a loop, a call, a bulk or grow operation, exception handling. */
const NOT_IN_LEAF = kindBits([Kind.Loop, Kind.Call, Kind.CallIndirect, Kind.ReturnCall, Kind.ReturnCallIndirect, Kind.MemoryGrow, Kind.TableGrow, Kind.MemoryBulk, Kind.TableBulk, Kind.Try, Kind.Catch, Kind.Throw, Kind.Delegate]);
/** What makes a function run an instruction more than once per call: a loop, or a tail call of itself. */
const LOOPING = kindBits([Kind.Loop, Kind.ReturnCall, Kind.ReturnCallIndirect]);
const REF_FUNC = kindBits([Kind.RefFunc]);
const CALLING = kindBits([Kind.Call, Kind.ReturnCall]);

/**
 * Every defined function's count if it is a leaf, else -1; and marks ref.func targets referenced. A
 * leaf has no loop, no call, no bulk or grow operation and no throw, and at most FLAT_MAX_UNITS
 * instructions: each runs at most once per call, it returns to its caller or traps, and nothing
 * in it can wait for anything. A leaf that is only ever called directly (not exported, in a table,
 * the start function or ref.func'd) is charged by its callers: its count is part of the cost of
 * each call of it, in the caller's segment; it charges nothing itself. One called any other way
 * charges its count at entry, as every small function without loops. Either way a call of a leaf
 * settles nothing before it: the caller's local waits at most FLAT_MAX_UNITS units more.
 */
function leafUnits(ctx: Context, code: DecodedCode, n: number): Int32Array {
  const out = new Int32Array(n);
  const { kinds, indices, first, kindsIn } = code;
  for (let f = 0; f < n; f++) {
    const count = first[f + 1] - first[f] - 1; // the final end is not counted
    if (kindsIn[f] & REF_FUNC) for (let i = first[f]; i < first[f + 1]; i++) if (kinds[i] === Kind.RefFunc) ctx.reference(indices[i]);
    out[f] = !(kindsIn[f] & NOT_IN_LEAF) && count <= FLAT_MAX_UNITS ? count : -1;
  }
  return out;
}

/** A function without loops whose longest path costs at most this many units is charged that path at entry. */
export const FLAT_MAX_PATH = 256;
/** What the longest path is not computed through (a handler is entered from anywhere in its try). */
const NO_PATH = new Uint8Array(32);
for (const k of [Kind.Loop, Kind.Try, Kind.Catch, Kind.Throw, Kind.Delegate, Kind.ReturnCall, Kind.ReturnCallIndirect]) NO_PATH[k] = 1;
const UNREACHED = -(2 ** 30);
const TRY_TABLE = 0x1f;
let labelMax = new Int32Array(1 << 10);
let ifReach = new Int32Array(1 << 10);
let thenEnd = new Int32Array(1 << 10);

/**
 * The most units any run of a body without loops can be charged (what it executes, each call at its
 * cost: `cost(i)`), from its entry to a return, a trap or its end: the longest path through its
 * blocks, arms and branches, each instruction counted when control passes it (an `end` also when a
 * branch arrives there). -1 for a body the walk does not follow (a loop, exception handling
 * (try_table too), a tail call). A br_table's targets are taken as every enclosing label: more,
 * never less.
 */
function longestPath(bytes: Uint8Array, count: number, cost: (i: number) => number): number {
  let top = 0;
  let reach = 0;
  let exit = UNREACHED;
  const arrive = (depth: number, r: number) => {
    if (depth >= top) exit = Math.max(exit, r);
    else labelMax[top - 1 - depth] = Math.max(labelMax[top - 1 - depth], r);
  };
  for (let i = 0; i < count - 1; i++) {
    const k = kinds[i];
    // try_table decodes as a block; its catches branch to labels from any call in it.
    if (NO_PATH[k] || (k === Kind.Block && bytes[starts[i]] === TRY_TABLE)) return -1;
    const r = reach < 0 ? UNREACHED : reach + cost(i);
    switch (k) {
      case Kind.Block:
      case Kind.If:
        if (top === labelMax.length) {
          [labelMax, ifReach, thenEnd] = [labelMax, ifReach, thenEnd].map((a) => grown(a, new Int32Array(top * 2)));
        }
        labelMax[top] = UNREACHED;
        ifReach[top] = k === Kind.If ? r : UNREACHED; // the false arm starts where the if was
        thenEnd[top++] = UNREACHED;
        reach = r;
        break;
      case Kind.Else:
        thenEnd[top - 1] = r;
        reach = ifReach[top - 1];
        ifReach[top - 1] = UNREACHED; // taken by the else arm
        break;
      case Kind.End:
        top--;
        reach = Math.max(reach, labelMax[top], ifReach[top], thenEnd[top]);
        reach = reach < 0 ? UNREACHED : reach + cost(i);
        break;
      case Kind.Br:
        arrive(readUleb(bytes, starts[i] + 1).value, r);
        reach = UNREACHED;
        break;
      case Kind.BrIf:
        arrive(readUleb(bytes, starts[i] + 1).value, r);
        reach = r;
        break;
      case Kind.BrTable:
        for (let d = 0; d <= top; d++) arrive(d, r);
        reach = UNREACHED;
        break;
      case Kind.Return:
      case Kind.Unreachable:
        exit = Math.max(exit, r);
        reach = UNREACHED;
        break;
      default:
        reach = r;
    }
  }
  if (top !== 0) return -1;
  return Math.max(exit, reach, 0);
}

/** Points the module-level views (starts, nexts, kinds, indices) at defined function f's body; its instruction count. */
function viewBody(code: DecodedCode, f: number): number {
  const from = code.first[f];
  const count = code.first[f + 1] - from;
  starts = code.starts.subarray(from, from + count);
  nexts = code.nexts.subarray(from, from + count);
  kinds = code.kinds.subarray(from, from + count);
  indices = code.indices.subarray(from, from + count);
  return count;
}

/**
 * Which functions are charged whole at entry, and by how much (flatUnits: -1 for the others). Without
 * loops, each instruction runs at most once per call (a call runs the callee's, which charges its
 * own): the whole body's count, charged and checked at entry, bounds every path through it, and
 * nothing is left for a call or the exit to settle. Only for small bodies: a big one (a switch over
 * many cases) runs a small part of itself. A bigger one is charged its longest path, when that is
 * short: an add per segment, a settle before each call and at its exit would cost more than the
 * units it overcharges.
 *
 * callerChecked: such a function (not a leaf) that its callers charge and check instead, right
 * before each call: the caller settles its local before the call anyway, and the callee's charge joins
 * that one write of the global, where its own entry wrote the global a second time (CPython's
 * helpers: most of its calls). The charge and the check are the entry's, at the same moment, so
 * fuel and every check are as before. Only for a function every caller of which can: called only
 * directly (not referenced), never by a tail call (which leaves its caller) and never from a
 * function itself charged whole (which has no local and no settle before its calls).
 */
function flatFunctions(ctx: Context, code: DecodedCode, n: number, leaves: Int32Array, callerCharged: (i: number) => boolean): { flatUnits: Int32Array; callerChecked: Uint8Array } {
  const { m } = ctx;
  const flatUnits = new Int32Array(n);
  const notCallerChecked = new Uint8Array(n);
  const cost = (i: number) => (IS_CALL[kinds[i]] ? CALL_UNITS + (callerCharged(i) ? leaves[indices[i] - m.funcImports] : 0) : 1);
  for (let f = 0; f < n; f++) {
    const count = viewBody(code, f);
    flatUnits[f] = -1;
    if (!(code.kindsIn[f] & LOOPING)) {
      // `instructions`: what a run of the whole body may execute, a caller-charged leaf's included
      // (the bound of a function charged whole); `units`: what that run is charged.
      let units = 0;
      let instructions = 0;
      for (let i = 0; i < count - 1; i++) {
        const c = cost(i);
        units += c;
        instructions += IS_CALL[kinds[i]] ? c - CALL_UNITS + 1 : 1;
      }
      const path = longestPath(m.bytes, count, cost);
      if ((path >= 0 && path <= FLAT_MAX_PATH) || instructions <= FLAT_MAX_UNITS) flatUnits[f] = path >= 0 ? path : units;
    }
    if (!(code.kindsIn[f] & CALLING)) continue;
    for (let i = 0; i < count - 1; i++) {
      const g = indices[i] - m.funcImports;
      if (g < 0 || !(kinds[i] === Kind.Call || kinds[i] === Kind.ReturnCall)) continue;
      if (kinds[i] === Kind.ReturnCall || flatUnits[f] >= 0) notCallerChecked[g] = 1;
    }
  }
  const callerChecked = new Uint8Array(n);
  for (let f = 0; f < n; f++) callerChecked[f] = flatUnits[f] >= 0 && leaves[f] < 0 && !ctx.referenced[f] && !notCallerChecked[f] ? 1 : 0;
  return { flatUnits, callerChecked };
}

/**
 * Instructions after which a new straight-line segment starts: where control may arrive other than
 * from the instruction before (a loop header, an arm, a join after `end`), or leaves. Entering a
 * block or try falls through, so it does not end a segment; nor does br_if: what follows it runs
 * only when it falls through, and when it branches, the rest of the segment is charged unrun
 * (charged >= executed still holds, and one add serves the whole stretch).
 */
const ENDS_SEGMENT = new Uint8Array(32);
for (const k of [Kind.Loop, Kind.If, Kind.Else, Kind.End, Kind.Br, Kind.BrTable, Kind.Return, Kind.Unreachable, Kind.ReturnCall, Kind.ReturnCallIndirect, Kind.Catch, Kind.Throw, Kind.Delegate]) ENDS_SEGMENT[k] = 1;

function rewriteCode(ctx: Context, start: number, end: number, helpers: Uint8Array[]): Uint8Array {
  const { m } = ctx;
  const bytes = m.bytes;
  const c = new Cursor(bytes, start, end);
  const n = start < 0 ? 0 : c.u32();
  if (n !== m.funcTypes.length) throw new Malformed('function and code section counts differ');
  // Room for the rewritten code from the start (growing copies it, and is a path V8's optimized
  // rewriter has not seen): the code grows by about half; one body is smaller than the section.
  const w = new ByteWriter(2 * (end - start) + (1 << 16));
  w.uleb(n + helpers.length);
  const body = new ByteWriter(end - start + (1 << 16));
  const F = uleb(ctx.fuelGlobal);
  const EXH = uleb(ctx.exhausted);
  const check = [OP.globalGet, ...F, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...EXH, OP.end];
  // Branch hints for a guest module (branch-hints.ts: the build hints its final code instead): each
  // check's `if`, found in the meter's own snippets (only its opcodes and immediates: no guest bytes).
  const hinting = !ctx.trusted;
  const checkArm = [OP.if, VOID, OP.call, ...EXH, OP.end];
  const checksIn = (snippet: ArrayLike<number>): number[] => {
    const out = [];
    for (let i = 0; i + checkArm.length <= snippet.length; i++) {
      let k = 0;
      while (k < checkArm.length && snippet[i + k] === checkArm[k]) k++;
      if (k === checkArm.length) out.push(i);
    }
    return out;
  };
  const checkIfs = checksIn(check);
  const hintOffsets: number[] = [];
  const hints = new ByteWriter(hinting ? 1 << 12 : 16);
  let hintedFunctions = 0;
  /** Emits a snippet of the meter's, and notes where its checks' ifs are (`ifs`, offsets in it). */
  const checked = (snippet: ArrayLike<number>, ifs: readonly number[]) => {
    if (hinting) for (let k = 0; k < ifs.length; k++) hintOffsets.push(body.length + ifs[k]);
    body.bytes(snippet);
  };
  // The code inserted in a function depends only on where its two locals are: made once per count.
  const made = new Map<number, ReturnType<typeof make>>();
  const make = (locals: number) => {
    const ACC = uleb(locals);
    const TMP = uleb(locals + 1);
    // The settled value is teed into acc and checked there: one read of the global, not two.
    const settleCheck = [
      ...[OP.globalGet, ...F, OP.localGet, ...ACC, OP.i32Sub, OP.localTee, ...ACC, OP.globalSet, ...F],
      ...[OP.localGet, ...ACC, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...EXH, OP.end, OP.i32Const, 0, OP.localSet, ...ACC],
    ];
    // A function without loops: its whole count, at entry (teed into tmp, which holds nothing yet).
    // Made per function: joined, not spread (spreading iterates, and allocates, in V8's interpreter).
    const flatHead = [OP.globalGet, ...F, OP.i32Const];
    const flatTail = [OP.i32Sub, OP.localTee, ...TMP, OP.globalSet, ...F, OP.localGet, ...TMP, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...EXH, OP.end];
    const flatEntry = (units: number) => joined(flatHead, sleb32(units), flatTail);
    // Before a call of a caller-checked function (callerCheckable): the local and the callee's whole
    // charge settle in one write of the global, checked, as the callee's entry would have.
    const callHead = [OP.globalGet, ...F, OP.localGet, ...ACC, OP.i32Sub, OP.i32Const];
    const callTail = [OP.i32Sub, OP.localTee, ...ACC, OP.globalSet, ...F, OP.localGet, ...ACC, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...EXH, OP.end, OP.i32Const, 0, OP.localSet, ...ACC];
    const callCheck = (units: number) => joined(callHead, sleb32(units), callTail);
    // Before a call of a defined function: the callee checks at its entry (one `if` a function, not
    // one a call site: big functions with many calls compile much faster in V8).
    const settle = [OP.globalGet, ...F, OP.localGet, ...ACC, OP.i32Sub, OP.globalSet, ...F, OP.i32Const, 0, OP.localSet, ...ACC];
    const header = [OP.localGet, ...ACC, OP.i32Const, ...sleb32(LOOP_BATCH), OP.i32GeU, OP.if, VOID, ...settleCheck, OP.end];
    // The length is on top of the stack: charge it (shifted: at most 2^30, so the i32 global cannot
    // wrap), settle, check, and run the operation.
    const bulk = (shift: number) => [
      ...[OP.localSet, ...TMP, OP.globalGet, ...F, OP.localGet, ...ACC, OP.i32Sub, OP.localGet, ...TMP, OP.i32Const, shift, OP.i32ShrU, OP.i32Sub, OP.globalSet, ...F],
      ...[OP.i32Const, 0, OP.localSet, ...ACC, ...check, OP.localGet, ...TMP],
    ];
    const memoryGrow = ctx.trusted ? [] : [OP.localSet, ...TMP, OP.memorySize, 0, OP.localGet, ...TMP, OP.call, ...uleb(ctx.memoryGrow)];
    // memory.fill/copy (dest, value or source, length on the stack, kept in locals): up to
    // BULK_CHUNK_BYTES, charged here and run in place (most are a memcpy of a few bytes: a call of
    // the chunked helper cost more than the copy); longer, the helper charges and checks each chunk.
    const [D, S] = [uleb(locals + 2), uleb(locals + 3)];
    const bulkInPlace = (helper: number, op: Uint8Array) => [
      ...[OP.localSet, ...TMP, OP.localSet, ...S, OP.localSet, ...D],
      ...[OP.localGet, ...TMP, OP.i32Const, ...sleb32(BULK_CHUNK_BYTES), OP.i32GtU, OP.if, VOID],
      ...[...settle, OP.localGet, ...D, OP.localGet, ...S, OP.localGet, ...TMP, OP.call, ...uleb(helper)],
      ...[OP.else, OP.globalGet, ...F, OP.localGet, ...ACC, OP.i32Sub, OP.localGet, ...TMP, OP.i32Const, BULK_BYTES_SHIFT, OP.i32ShrU, OP.i32Sub],
      ...[OP.localTee, ...ACC, OP.globalSet, ...F, OP.localGet, ...ACC, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...EXH, OP.end],
      ...[OP.i32Const, 0, OP.localSet, ...ACC, OP.localGet, ...D, OP.localGet, ...S, OP.localGet, ...TMP, ...op, OP.end],
    ];
    const fill = ctx.fill < 0 ? [] : bulkInPlace(ctx.fill, new Uint8Array([OP.misc, MEMORY_FILL, 0]));
    const copy = ctx.copy < 0 ? [] : bulkInPlace(ctx.copy, new Uint8Array([OP.misc, MEMORY_COPY, 0, 0]));
    const bulkMemory = bulk(BULK_BYTES_SHIFT);
    const bulkTable = bulk(TABLE_ELEMENTS_SHIFT);
    // Where each snippet's checks' ifs are; the header's own `if` (around the settle and its check)
    // is as rare as the check. A function's entry charge: its check's `if`, counted from its end.
    const ifs = {
      settleCheck: checksIn(settleCheck),
      header: [1 + ACC.length + 1 + sleb32(LOOP_BATCH).length + 1, ...checksIn(header)],
      flatFromEnd: flatTail.length - checksIn(flatTail)[0],
      callFromEnd: callTail.length - checksIn(callTail)[0],
      fill: checksIn(fill),
      copy: checksIn(copy),
      bulkMemory: checksIn(bulkMemory),
      bulkTable: checksIn(bulkTable),
    };
    return { ACC, TMP, settle, settleCheck, flatEntry, callCheck, header, bulkMemory, bulkTable, memoryGrow, fill, copy, ifs };
  };
  const snippets = (locals: number) => {
    let s = made.get(locals);
    if (!s) made.set(locals, (s = make(locals)));
    return s;
  };
  const code = decodeBodies(bytes, c.at, end, n, ctx.trusted);
  const leaves = leafUnits(ctx, code, n);
  const allCounts = new Int32Array(code.first[n]);
  /** A direct call's cost to its caller: its own unit, and a caller-charged leaf's whole count. */
  const callee = (i: number) => indices[i] - m.funcImports;
  const callerCharged = (i: number) => kinds[i] === Kind.Call && callee(i) >= 0 && leaves[callee(i)] >= 0 && !ctx.referenced[callee(i)];
  const { flatUnits, callerChecked } = flatFunctions(ctx, code, n, leaves, callerCharged);
  for (let f = 0; f < n; f++) {
    const size = c.u32();
    const bodyEnd = c.at + size;
    if (bodyEnd > end) throw new Malformed('function body runs past the code section');
    const type = m.types[m.funcTypes[f]];
    // Locals: the guest's, then acc, tmp and two for a bulk operation's other operands.
    const decls = c.u32();
    const declsFrom = c.at;
    let locals = type.params.length;
    for (let d = 0; d < decls; d++) {
      locals += c.u32();
      c.byte();
    }
    if (locals > 50_000) throw new Malformed('too many locals');
    body.length = 0;
    hintOffsets.length = 0;
    body.uleb(decls + 1);
    body.span(bytes, declsFrom, c.at);
    body.bytes([4, I32]);
    const { ACC, settle, settleCheck, flatEntry, callCheck, header, bulkMemory, bulkTable, fill, copy, ifs } = snippets(locals);
    const count = viewBody(code, f);
    counts = allCounts.subarray(code.first[f], code.first[f] + count);
    // Segment lengths, from the back: the function's own final end is not counted.
    counts[count - 1] = 0;
    for (let i = count - 2; i >= 0; i--) {
      const cost = IS_CALL[kinds[i]] ? CALL_UNITS + (callerCharged(i) ? leaves[callee(i)] : 0) : 1;
      counts[i] = cost + (ENDS_SEGMENT[kinds[i]] ? 0 : counts[i + 1]);
    }

    body.byte(OP.block);
    body.bytes(ctx.blockType(type));
    // A function without loops (flatFunctions) is charged a bound of every run of it at entry.
    const flat = flatUnits[f] >= 0;
    if (flat && leaves[f] >= 0 && !ctx.referenced[f]) ctx.report.callerCharged++; // its callers charge it
    else if (callerChecked[f]) {
      // Charged and checked by each caller, right before the call.
      ctx.report.entryChecks++;
      ctx.report.callerChecked++;
    } else if (flat) {
      const units = flatUnits[f];
      const entry = flatEntry(units);
      checked(entry, [entry.length - ifs.flatFromEnd]);
      ctx.report.entryChecks++;
    } else checked(check, checkIfs); // calls of it settled without a check
    let segmentStart = !flat;
    let loopHeader = false;
    let depth = 0;
    // Unchanged instructions are copied in runs: from `copied` up to the instruction being rewritten.
    let copied = starts[0];
    const flush = (i: number) => {
      if (starts[i] > copied) body.span(bytes, copied, starts[i]);
      copied = nexts[i];
    };
    for (let i = 0; i < count - 1; i++) {
      if (segmentStart) {
        if (starts[i] > copied) body.span(bytes, copied, starts[i]);
        copied = starts[i];
        body.byte(OP.localGet);
        body.bytes(ACC);
        body.byte(OP.i32Const);
        body.sleb32(counts[i]);
        body.byte(OP.i32Add);
        body.byte(OP.localSet);
        body.bytes(ACC);
        segmentStart = false;
        if (loopHeader) {
          checked(header, ifs.header);
          loopHeader = false;
          ctx.report.loopChecks++;
        }
      }
      const kind = kinds[i];
      switch (kind) {
        case Kind.Return:
          flush(i);
          body.byte(OP.br);
          body.uleb(depth);
          break;
        case Kind.Call:
          if (flat) {
            if (indices[i] < m.funcImports) break; // an import's index does not move
            flush(i);
            body.byte(OP.call);
            body.uleb(ctx.remap(indices[i]));
            break;
          }
          flush(i);
          // A defined function checks at its entry; an import (host code) is checked here. A leaf
          // needs nothing: it runs at most FLAT_MAX_UNITS units, calls nothing and cannot throw.
          if (indices[i] < m.funcImports) checked(settleCheck, ifs.settleCheck);
          else if (callerChecked[callee(i)]) {
            const charge = callCheck(flatUnits[callee(i)]);
            checked(charge, [charge.length - ifs.callFromEnd]);
          } else if (leaves[callee(i)] < 0) body.bytes(settle);
          body.byte(OP.call);
          body.uleb(ctx.remap(indices[i]));
          ctx.report.callSettles++;
          break;
        case Kind.CallIndirect:
          if (flat) break;
          flush(i);
          checked(settleCheck, ifs.settleCheck);
          body.span(bytes, starts[i], nexts[i]);
          ctx.report.callSettles++;
          break;
        case Kind.ReturnCall:
          flush(i);
          checked(settleCheck, ifs.settleCheck);
          body.byte(OP.returnCall);
          body.uleb(ctx.remap(indices[i]));
          break;
        case Kind.ReturnCallIndirect:
          flush(i);
          checked(settleCheck, ifs.settleCheck);
          body.span(bytes, starts[i], nexts[i]);
          break;
        case Kind.RefFunc:
          flush(i);
          body.byte(OP.refFunc);
          body.uleb(ctx.remap(indices[i]));
          break;
        case Kind.MemoryGrow:
          if (ctx.trusted) break; // the build grows through the host itself
          flush(i);
          body.bytes(snippets(locals).memoryGrow);
          body.span(bytes, starts[i], nexts[i]);
          ctx.report.growSites++;
          break;
        case Kind.TableGrow:
          if (ctx.trusted) break;
          flush(i);
          body.bytes([OP.localSet, ...snippets(locals).TMP, OP.misc, TABLE_SIZE, ...uleb(indices[i]), OP.localGet, ...snippets(locals).TMP, OP.call, ...uleb(ctx.tableGrow)]);
          body.span(bytes, starts[i], nexts[i]);
          ctx.report.growSites++;
          break;
        case Kind.MemoryBulk:
          if (bytes[starts[i] + 1] === MEMORY_FILL || bytes[starts[i] + 1] === MEMORY_COPY) {
            flush(i);
            if (bytes[starts[i] + 1] === MEMORY_FILL) checked(fill, ifs.fill);
            else checked(copy, ifs.copy);
            ctx.report.bulkCharges++;
            break;
          }
        // memory.init: from a data segment, no longer than the module
        // falls through
        case Kind.TableBulk:
          flush(i);
          if (kind === Kind.MemoryBulk) checked(bulkMemory, ifs.bulkMemory);
          else checked(bulkTable, ifs.bulkTable);
          body.span(bytes, starts[i], nexts[i]);
          ctx.report.bulkCharges++;
          break;
        case Kind.Throw:
          // Leaves the function (or jumps to a handler) without passing the exit settle.
          flush(i);
          checked(settleCheck, ifs.settleCheck);
          body.span(bytes, starts[i], nexts[i]);
          ctx.report.throwSettles++;
          break;
        case Kind.Block:
        case Kind.If:
        case Kind.Try:
          depth++;
          break;
        case Kind.Loop:
          depth++;
          loopHeader = true;
          break;
        case Kind.End:
        case Kind.Delegate:
          depth--;
          break;
      }
      if (ENDS_SEGMENT[kind] && !flat) segmentStart = true;
    }
    if (starts[count - 1] > copied) body.span(bytes, copied, starts[count - 1]);
    if (depth !== 0) throw new Malformed('unbalanced blocks');
    body.byte(OP.end); // the wrapper block: every exit comes through here
    if (!flat) checked(settleCheck, ifs.settleCheck);
    body.byte(OP.end);
    c.at = bodyEnd;
    w.uleb(body.length);
    w.append(body);
    if (hintOffsets.length) {
      hints.uleb(m.funcImports + ADDED_IMPORTS + f);
      hints.uleb(hintOffsets.length);
      for (const at of hintOffsets) {
        hints.uleb(at);
        hints.byte(1); // the hint's length
        hints.byte(0); // unlikely
      }
      hintedFunctions++;
    }
  }
  for (const [k, h] of helpers.entries()) {
    w.uleb(h.length);
    w.bytes(h);
    const ifs = hinting ? checksIn(h) : [];
    if (!ifs.length) continue;
    hints.uleb(m.funcImports + ADDED_IMPORTS + n + k);
    hints.uleb(ifs.length);
    for (const at of ifs) {
      hints.uleb(at);
      hints.byte(1);
      hints.byte(0);
    }
    hintedFunctions++;
  }
  if (hintedFunctions) {
    const section = new ByteWriter(hints.length + 32);
    section.bytes(wasmName(BRANCH_HINT_SECTION));
    section.uleb(hintedFunctions);
    section.append(hints);
    ctx.hints = section.view();
  }
  return w.view();
}

function joined(a: number[], b: number[], c: number[]): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

// The chunked bulk operations: (dest, value|source, length), locals 3 = chunk. Hand-assembled.
const L = { d: 0, v: 1, s: 1, n: 2, chunk: 3 } as const;

/** Traps (unreachable) unless [local a, local a + n) lies in memory 0: as the instruction does, before writing. */
function boundsCheck(a: number): number[] {
  return [
    OP.localGet, a, 0xad, OP.localGet, L.n, 0xad, 0x7c, // i64(a) + i64(n)
    OP.memorySize, 0, 0xad, 0x42, 16, 0x86, // i64(memory.size) << 16
    0x56, OP.if, VOID, 0x00, OP.end, // i64.gt_u: unreachable
  ];
}

/** chunk = min(n, BULK_CHUNK_BYTES); charge it; check. */
function chargeChunk(ctx: Context): number[] {
  const F = uleb(ctx.fuelGlobal);
  return [
    OP.localGet, L.n, OP.i32Const, ...sleb32(BULK_CHUNK_BYTES), OP.localGet, L.n, OP.i32Const, ...sleb32(BULK_CHUNK_BYTES), 0x49, 0x1b, OP.localSet, L.chunk,
    OP.globalGet, ...F, OP.localGet, L.chunk, OP.i32Const, BULK_BYTES_SHIFT, OP.i32ShrU, OP.i32Sub, OP.globalSet, ...F,
    OP.globalGet, ...F, OP.i32Const, 0, OP.i32LtS, OP.if, VOID, OP.call, ...uleb(ctx.exhausted), OP.end,
  ];
}

function helperBody(code: number[]): Uint8Array {
  return new Uint8Array([1, 1, I32, ...code, OP.end]);
}

function fillHelper(ctx: Context): Uint8Array {
  return helperBody([
    ...boundsCheck(L.d),
    0x03, VOID, // loop
    ...chargeChunk(ctx),
    OP.localGet, L.d, OP.localGet, L.v, OP.localGet, L.chunk, OP.misc, MEMORY_FILL, 0,
    OP.localGet, L.d, OP.localGet, L.chunk, OP.i32Add, OP.localSet, L.d,
    OP.localGet, L.n, OP.localGet, L.chunk, OP.i32Sub, 0x22, L.n, 0x0d, 0, // local.tee n; br_if loop
    OP.end,
  ]);
}

/** Forward chunks when dest <= source, backward from the end otherwise: overlapping copies stay memmove. */
function copyHelper(ctx: Context): Uint8Array {
  const step = (forward: boolean) => [
    0x03, VOID,
    ...chargeChunk(ctx),
    OP.localGet, L.n, OP.localGet, L.chunk, OP.i32Sub, OP.localSet, L.n,
    ...(forward
      ? [OP.localGet, L.d, OP.localGet, L.s, OP.localGet, L.chunk, OP.misc, MEMORY_COPY, 0, 0,
         OP.localGet, L.d, OP.localGet, L.chunk, OP.i32Add, OP.localSet, L.d,
         OP.localGet, L.s, OP.localGet, L.chunk, OP.i32Add, OP.localSet, L.s]
      : [OP.localGet, L.d, OP.localGet, L.n, OP.i32Add, OP.localGet, L.s, OP.localGet, L.n, OP.i32Add, OP.localGet, L.chunk, OP.misc, MEMORY_COPY, 0, 0]),
    OP.localGet, L.n, 0x0d, 0, // br_if loop while bytes are left
    OP.end,
  ];
  return helperBody([
    ...boundsCheck(L.d),
    ...boundsCheck(L.s),
    OP.localGet, L.d, OP.localGet, L.s, 0x4d, // i32.le_u
    OP.if, VOID, ...step(true), 0x05, ...step(false), OP.end,
  ]);
}
