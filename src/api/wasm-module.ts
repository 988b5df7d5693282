// Any WebAssembly module in the fence: compile once (bytes or .wat text; instrumented and cached by
// hash), then run it many times, each run in a fresh instance with its own grants and limits.
import { readFile } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { InvalidModuleError, isBinary, loadModule, loadModuleFile, watToBinary, type LoadedModule, type ModuleMeta } from '../instrument/load.js';
import { WasmPool } from '../pool/wasm-pool.js';
import type { Entry, RunTarget } from '../guests/wasi/guest.js';
import { runModule } from '../session/module-run.js';
import type { WasmRunResult } from '../guests/wasi/result.js';
import type { WasmRunOptions } from '../guests/wasi/options.js';

export interface CompileOptions {
  /** Keep instrumented modules here too (a directory only the host can write). */
  cacheDir?: string;
  /** Defaults for every run (each run's options override them key by key). */
  defaults?: WasmRunOptions;
  /**
   * 'inline' (default): runs on the calling thread, the fastest start, blocking it while the guest
   * runs. 'worker': each run on a worker thread (of `pool`, or a pool shared by the process), so the
   * caller's event loop keeps turning, host functions may be async, and a watchdog terminates a
   * worker whose run outlives its deadline.
   */
  isolation?: 'inline' | 'worker';
  /** The pool that runs this module's runs (implies isolation 'worker'). */
  pool?: WasmPool;
}

let sharedPool: WasmPool | null = null;
/** Started on first use; its idle workers never keep the process alive. */
function defaultPool(): WasmPool {
  return (sharedPool ??= new WasmPool());
}

export class WasmModule {
  private constructor(
    private readonly loaded: LoadedModule,
    private readonly defaults: WasmRunOptions,
    private readonly pool: WasmPool | null,
  ) {}

  /** `source`: a binary module, or .wat text (string or bytes). Invalid input throws InvalidModuleError. */
  static async compile(source: Uint8Array | ArrayBuffer | string, options: CompileOptions = {}): Promise<WasmModule> {
    const bytes = await toBinary(source);
    const pool = poolFor(options);
    return new WasmModule(await loadModule(bytes, options.cacheDir), options.defaults ?? {}, pool);
  }

  /** Reads a .wasm or .wat file (with a cacheDir, a file met before is found there unread). */
  static async fromFile(path: string, options: CompileOptions = {}): Promise<WasmModule> {
    const pool = poolFor(options);
    return new WasmModule(await loadModuleFile(path, options.cacheDir, () => readBinary(path)), options.defaults ?? {}, pool);
  }

  /** Instrumentation facts: imports, exports with their types, memory, metering counts. */
  get meta(): ModuleMeta {
    return this.loaded.meta;
  }

  get sha256(): string {
    return this.loaded.sha256;
  }

  /** Where its compiled form came from: instrumented now, the memory cache, or the disk cache. */
  get source(): LoadedModule['source'] {
    return this.loaded.source;
  }

  get isolation(): 'inline' | 'worker' {
    return this.pool ? 'worker' : 'inline';
  }

  /** What a pool runs: the compiled module and its facts. */
  get target(): RunTarget {
    return this.loaded;
  }

  /** Runs the module as a WASI command (its _start). */
  async run(options: WasmRunOptions = {}): Promise<WasmRunResult> {
    return this.start({ kind: 'start' }, options);
  }

  /** The same, synchronously on this thread (isolation 'inline' only). */
  runSync(options: WasmRunOptions = {}): WasmRunResult {
    if (this.pool) throw new UsageError("runSync runs on the calling thread: with isolation 'worker' use run()");
    return runModule(this.loaded, { kind: 'start' }, { ...this.defaults, ...options });
  }

  /** Calls an export in a fresh instance: i32/f32/f64 as numbers, i64 as BigInt, in and out. */
  async invoke(name: string, ...values: (number | bigint | string)[]): Promise<WasmRunResult> {
    return this.invokeWith({}, name, ...values);
  }

  async invokeWith(options: WasmRunOptions, name: string, ...values: (number | bigint | string)[]): Promise<WasmRunResult> {
    return this.start({ kind: 'invoke', name, args: values }, options);
  }

  private async start(entry: Entry, options: WasmRunOptions): Promise<WasmRunResult> {
    const merged = { ...this.defaults, ...options };
    return this.pool ? this.pool.execute(this.loaded, entry, merged) : runModule(this.loaded, entry, merged);
  }
}

async function readBinary(path: string): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    // fs.readFile, not fs/promises': that module loads readline and the fs streams (~5 ms of start).
    data = await new Promise<Buffer>((resolve, reject) => readFile(path, (e, bytes) => (e ? reject(e) : resolve(bytes))));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return toBinary(data);
}

/** A binary module: `source` itself, or .wat text (a string, or bytes that are not a binary module) converted. */
async function toBinary(source: Uint8Array | ArrayBuffer | string): Promise<Uint8Array> {
  const bytes = typeof source === 'string' ? null : source instanceof Uint8Array ? source : new Uint8Array(source);
  return bytes !== null && isBinary(bytes) ? bytes : watToBinary(typeof source === 'string' ? source : new TextDecoder().decode(bytes!));
}

function poolFor(options: CompileOptions): WasmPool | null {
  const { isolation, pool } = options;
  if (isolation !== undefined && isolation !== 'inline' && isolation !== 'worker') throw new UsageError(`isolation must be 'inline' or 'worker', got ${JSON.stringify(isolation)}`);
  if (pool !== undefined && !(pool instanceof WasmPool)) throw new UsageError('pool must be a WasmPool');
  if (pool && isolation === 'inline') throw new UsageError("a pool runs on workers: isolation 'inline' cannot have a pool");
  return pool ?? (isolation === 'worker' ? defaultPool() : null);
}

export { InvalidModuleError };
