// Names the build transform adds to the module and the engine relies on (build/passes/*).
export const FUEL_GLOBAL_EXPORT = 'pyfence_fuel';
export const HOST_IMPORT_MODULE = 'pyfence';
export const FUEL_EXHAUSTED_IMPORT = 'fuel_exhausted';
export const SLEEP_MS_IMPORT = 'sleep_ms';
/** `(bytes) -> 0|1`: may linear memory grow by this much under the cap? (build/passes/mid-run-gc.ts) */
export const GC_MAY_GROW_IMPORT = 'gc_may_grow';
/** mpz_as_str_inpl's six arguments -> its length, or -1: the original does it (build/passes/mpz-format.ts). */
export const MPZ_FORMAT_IMPORT = 'mpz_format';

/**
 * Linear memory is imported (HOST_IMPORT_MODULE.MEMORY_IMPORT), so the engine can recycle it; the
 * custom section MEMORY_SECTION holds `{"initialPages":N,"maximumPages":M}` for creating one.
 */
export const MEMORY_IMPORT = 'memory';
export const MEMORY_SECTION = 'pyfence.memory';
/**
 * MicroPython's builtin-module table as the build found it (`{"moduleTable":[{name,keyAddress,key}]}`,
 * build/bake.ts): in the module itself, so the import policy can never be applied from a report of
 * another build (src/guests/micropython/import-table.ts).
 */
export const MODULE_TABLE_SECTION = 'pyfence.module-table';
/** The memory size the guest sees (sbrk's heap size), kept by the host (build/passes/logical-memory.ts). */
export const MEMORY_BYTES_EXPORT = 'pyfence_memory_bytes';

/** Every other mutable global is exported under this prefix + index, for snapshots. */
export const STATE_GLOBAL_PREFIX = 'pyfence_global_';

/** What the engine calls; everything else is stripped after baking (fewer exports, faster instances). */
export const RUNTIME_EXPORTS = [
  'memory',
  'malloc',
  'free',
  'mp_js_do_exec',
  'mp_js_do_exec_async', // the same, with top-level await allowed while compiling
  'mp_sched_keyboard_interrupt',
  MEMORY_BYTES_EXPORT,
  FUEL_GLOBAL_EXPORT,
];

/** The two builds: metered is what sandboxes run; unmetered exists only to measure metering's cost. */
export type ModuleVariant = 'metered' | 'unmetered';
export const MODULE_FILES: Record<ModuleVariant, string> = {
  metered: 'pyfence.wasm',
  unmetered: 'pyfence-unmetered.wasm',
};

/** The size of a wasm linear-memory page. */
export const WASM_PAGE_BYTES = 65536;
