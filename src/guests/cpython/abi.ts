// What build/cpython/ produces and the CPython engine relies on.

/** Build outputs under wasm/. */
export const CPYTHON_FILES = {
  module: 'cpython.wasm',
  stdlib: 'python_stdlib.zip',
  manifest: 'cpython-manifest.json',
  /** The initialised interpreter (src/guests/cpython/state-file.ts), baked by the build. */
  state: 'cpython-state.bin',
} as const;

/** Every mutable global of the module is exported under this prefix + index, for snapshots. */
export const CPYTHON_STATE_PREFIX = 'pyfence_state_';

/**
 * Every table but the function table is exported under this prefix + index: an instance whose tables
 * changed is not reused (instance.ts).
 */
export const CPYTHON_TABLE_PREFIX = 'pyfence_table_';

/** The module's own exports the engine calls; all others are removed (V8 wraps each per instance). */
export const CPYTHON_RUNTIME_EXPORTS = [
  'memory',
  '__indirect_function_table',
  '__wasm_call_ctors',
  'Py_InitializeEx',
  'PyRun_SimpleString',
  'PyErr_SetInterrupt',
  'PyImport_AddModule',
  'PyObject_GetAttrString',
  'PyUnicode_AsUTF8AndSize',
  'Py_DecRef',
  'PyErr_Clear',
  'malloc',
  'free',
  // For the bake: zeroing the heap's free memory before the state is captured (free-memory.ts).
  'malloc_usable_size',
  'malloc_footprint',
  'malloc_set_footprint_limit',
] as const;

/** Where the guest sees the standard library (found by zipimport on the default sys.path). */
export const STDLIB_GUEST_PATH = '/lib/python314.zip';
