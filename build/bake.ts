// Snapshot baking: run the interpreter's initialisation once at build time and write the resulting
// memory and globals back into the module, so a new instance starts already initialised.
import binaryen from 'binaryen';
import { EngineInstance } from '../src/guests/micropython/instance.js';
import type { HostHooks } from '../src/engine/host.js';
import { mutableGlobals, type Module } from './wasm-inspect.js';
import { execSource } from '../src/guests/micropython/interpreter.js';
import { PRELUDE } from '../src/guests/micropython/prelude.js';
import { findModuleTable, type ModuleTableEntry } from './module-table.js';
import { setInitialMemoryBytes } from './passes/logical-memory.js';
import { fillQstrFilter, QSTR_FILTER_GLOBAL, type QstrFilterFill, type QstrFilterReport } from './passes/qstr-filter.js';
import { HOST_IMPORT_MODULE, MEMORY_IMPORT, MEMORY_SECTION, MODULE_TABLE_SECTION, WASM_PAGE_BYTES as PAGE } from '../src/engine/abi.js';

export const INIT_PYSTACK_WORDS = 2048; // same as the stock loader
export const INIT_HEAP_BYTES = 1024 * 1024;
const STATIC_SCAN_END = 1024 * 1024; // static data ends near 200 KB; the heap follows
const GLOBAL_EXPORT_PREFIX = '__pyfence_bake_global_';

/** Init must be deterministic: a fixed clock and random source, output discarded (there is none). */
const bakeHooks: HostHooks = {
  stdout: () => {},
  stderr: (b) => process.stderr.write(b),
  clock: { ticksMs: () => 0, timeMs: () => 0 },
  randomU32: () => 0x9e3779b9,
  memoryLimitBytes: 2 ** 31,
  sleep: () => {},
  hostCall: () => {
    throw new Error('bake: the prelude must not call the host');
  },
  revealHostChannel: true,
};

export interface BakeReport {
  initialPages: number;
  segments: number;
  bakedBytes: number;
  globals: Record<string, number>;
  /** Builtin-module table entries, for the import policy (src/capabilities/import-policy.ts). */
  moduleTable: ModuleTableEntry[];
  stackLimit: { address: number; from: number; to: number };
  /** Absent for a module built without build/passes/qstr-filter.ts (docs/research builds). */
  qstrFilter?: QstrFilterFill;
}

/** Non-zero runs of memory, merging zero gaps shorter than `gap` bytes. */
function nonZeroRuns(bytes: Uint8Array, gap = 32): [number, number][] {
  const runs: [number, number][] = [];
  let i = 0;
  while (i < bytes.length) {
    while (i < bytes.length && bytes[i] === 0) i++;
    if (i >= bytes.length) break;
    const start = i;
    let end = i;
    while (i < bytes.length) {
      if (bytes[i] !== 0) {
        end = ++i;
      } else if (i - end >= gap) {
        break;
      } else {
        i++;
      }
    }
    runs.push([start, end]);
  }
  return runs;
}

/**
 * The sbrk top after init: the static u32 that moves when a large block is malloc'd. Found by
 * diffing memory, and verified unique, because the binary has no symbols to name it.
 */
function findHeapTop(inst: EngineInstance, before: Uint8Array, staticEnd: number): number {
  const probe = 4 * 1024 * 1024;
  const ptr = inst.call((e) => e.malloc(probe));
  if (!ptr) throw new Error('bake: probe malloc failed');
  const after = inst.memory.bytes(0, staticEnd);
  const dvBefore = new DataView(before.buffer, before.byteOffset);
  const dvAfter = new DataView(after.buffer, after.byteOffset);
  const candidates: number[] = [];
  for (let a = PAGE; a + 4 <= staticEnd; a += 4) {
    const x = dvBefore.getUint32(a, true);
    const y = dvAfter.getUint32(a, true);
    if (x < y && y >= ptr + probe && y <= inst.memory.byteLength && x >= ptr - PAGE && x <= ptr + PAGE) {
      candidates.push(x);
    }
  }
  // Two words move: sbrk's break and dlmalloc's top-chunk pointer, which lies just below the break.
  const top = Math.max(...candidates);
  if (candidates.length < 1 || candidates.length > 2 || candidates.some((c) => top - c > PAGE)) {
    throw new Error(`bake: cannot identify the sbrk pointer (${candidates.map((c) => c.toString(16))})`);
  }
  return top;
}

export function bakeInitialisedState(m: Module, qstrs?: QstrFilterReport): BakeReport {
  const globals = mutableGlobals(m);
  globals.forEach((g, i) => m.addGlobalExport(g.name, GLOBAL_EXPORT_PREFIX + i));
  const compiled = new WebAssembly.Module(new Uint8Array(m.emitBinary()));
  const inst = new EngineInstance(compiled, bakeHooks);
  const dataEnd = lastNonZero(inst.memory.bytes(0, inst.memory.byteLength)) + 1; // before init: the data segments only
  inst.call((e) => {
    e.emscripten_stack_init();
    e.__wasm_call_ctors();
    e.mp_js_init(INIT_PYSTACK_WORDS, INIT_HEAP_BYTES);
    e.proxy_c_init();
  });
  const prelude = execSource(inst, PRELUDE);
  if (prelude.kind !== 'ok') throw new Error(`bake: the prelude failed: ${JSON.stringify(prelude)}`);
  // Collections run mid-run now (build/passes/mid-run-gc.ts): collect when the heap is full, not
  // after every 16 KiB allocated (the port's setting, harmless only while gc_collect did nothing).
  const threshold = execSource(inst, 'import gc\ngc.threshold(-1)\ndel gc');
  if (threshold.kind !== 'ok') throw new Error(`bake: gc.threshold failed: ${JSON.stringify(threshold)}`);

  const stackLimit = raiseStackLimit(inst);
  // Last before the capture: every qstr the baked state holds is in the slot table.
  const qstrFilter = qstrs && fillQstrFilter(inst, qstrs.lastPoolAddress);
  if (qstrFilter) {
    const filterGlobal = globals.findIndex((g) => g.name === QSTR_FILTER_GLOBAL);
    if (filterGlobal < 0) throw new Error('bake: the qstr filter has no global');
    inst.exportedGlobal(GLOBAL_EXPORT_PREFIX + filterGlobal)!.value = qstrFilter.address;
  }
  const captured = inst.memory.bytes(0, inst.memory.byteLength).slice();
  const moduleTable = findModuleTable(inst, captured, dataEnd); // imports modules: after the capture
  const values: Record<string, number> = {};
  globals.forEach((g, i) => {
    if (g.type !== binaryen.i32) throw new Error(`bake: global ${g.name} is not i32`);
    values[g.name] = inst.exportedGlobal(GLOBAL_EXPORT_PREFIX + i)!.value as number;
    m.removeExport(GLOBAL_EXPORT_PREFIX + i);
  });

  // Only the static area can hold the sbrk pointer; the heap starts after it.
  const runs = nonZeroRuns(captured);
  const heapTop = findHeapTop(inst, captured, Math.min(captured.length, STATIC_SCAN_END));
  const initialPages = Math.ceil(heapTop / PAGE);
  const lastByte = runs[runs.length - 1][1];
  if (lastByte > heapTop) throw new Error('bake: non-zero bytes above the heap top');

  for (const g of globals) {
    m.removeGlobal(g.name);
    m.addGlobal(g.name, g.type, true, m.i32.const(values[g.name]));
  }
  const segments = runs.map(([s, e]) => ({
    data: captured.subarray(s, e),
    offset: m.i32.const(s),
    passive: false,
  }));
  // setMemory replaces the memory and all its data segments; its export must be removed first.
  const memoryName = binaryen.getExportInfo(m.getExport('memory')).value;
  const maxPages = (m.getMemoryInfo(memoryName) as { max?: number }).max ?? 32768;
  m.removeExport('memory');
  m.setMemory(initialPages, maxPages, 'memory', segments as unknown as binaryen.MemorySegment[], false, false, memoryName);
  // Imported, so that the engine can give an instance a recycled memory (src/engine/memory-pool.ts).
  m.addMemoryImport(memoryName, HOST_IMPORT_MODULE, MEMORY_IMPORT);
  const shape = JSON.stringify({ initialPages, maximumPages: maxPages });
  m.addCustomSection(MEMORY_SECTION, new TextEncoder().encode(shape));
  m.addCustomSection(MODULE_TABLE_SECTION, new TextEncoder().encode(JSON.stringify({ moduleTable })));
  setInitialMemoryBytes(m, initialPages);
  return {
    initialPages,
    segments: segments.length,
    bakedBytes: runs.reduce((n, [s, e]) => n + e - s, 0),
    globals: values,
    moduleTable,
    stackLimit,
    qstrFilter,
  };
}

/** What the port passes to mp_cstack_init_with_sp_here: half of Emscripten's 64 KiB C stack. */
const PORT_STACK_LIMIT = 32 * 1024;
/**
 * Spilling (build/passes/mid-run-gc.ts) makes C frames bigger, which would cut the Python recursion
 * depth by a third. The stack is 64 KiB and checked recursion stops at this many bytes, which still
 * leaves 16 KiB for unchecked C code below the deepest check (an overflow past address 0 traps).
 */
const STACK_LIMIT = 48 * 1024;
/** Emscripten puts the C stack at [0, 64 KiB), growing down. */
const C_STACK_TOP = 64 * 1024;

/**
 * MP_STATE_THREAD(stack_top, stack_limit), set once by mp_js_init: the only pair of words in the
 * static area holding a stack address near the stack's top followed by the port's limit.
 */
function raiseStackLimit(inst: EngineInstance): { address: number; from: number; to: number } {
  const view = new DataView(inst.memory.bytes(0, STATIC_SCAN_END).slice().buffer);
  const found: number[] = [];
  for (let a = PAGE; a + 8 <= STATIC_SCAN_END; a += 4) {
    const top = view.getUint32(a, true);
    if (view.getUint32(a + 4, true) === PORT_STACK_LIMIT && top > C_STACK_TOP - 1024 && top <= C_STACK_TOP) found.push(a + 4);
  }
  if (found.length !== 1) throw new Error(`bake: expected one C-stack limit, found ${found.length}`);
  const cell = inst.memory.bytes(found[0], 4);
  new DataView(cell.buffer, cell.byteOffset, 4).setUint32(0, STACK_LIMIT, true);
  return { address: found[0], from: PORT_STACK_LIMIT, to: STACK_LIMIT };
}

function lastNonZero(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  while (i >= 0 && bytes[i] === 0) i--;
  return i;
}
