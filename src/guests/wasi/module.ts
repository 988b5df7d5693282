// Any WebAssembly module in the fence: compile once (bytes or .wat text; instrumented and cached by
// hash), then run it many times, each run in a fresh instance with its own grants and limits.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../python/errors.js';
import { InvalidModuleError, isBinary, loadModule, watToBinary, type LoadedModule, type ModuleMeta } from '../../instrument/load.js';
import { runOnce } from './run.js';
import type { WasmRunResult } from './result.js';
import type { WasmRunOptions } from './options.js';

export interface CompileOptions {
  /** Keep instrumented modules here too (a directory only the host can write). */
  cacheDir?: string;
  /** Defaults for every run (each run's options override them key by key). */
  defaults?: WasmRunOptions;
}

export class WasmModule {
  private constructor(
    private readonly loaded: LoadedModule,
    private readonly defaults: WasmRunOptions,
  ) {}

  /** `source`: a binary module, or .wat text (string or bytes). Invalid input throws InvalidModuleError. */
  static async compile(source: Uint8Array | ArrayBuffer | string, options: CompileOptions = {}): Promise<WasmModule> {
    let bytes = typeof source === 'string' ? null : source instanceof Uint8Array ? source : new Uint8Array(source);
    if (bytes === null || !isBinary(bytes)) bytes = await watToBinary(typeof source === 'string' ? source : new TextDecoder().decode(bytes!));
    return new WasmModule(await loadModule(bytes, options.cacheDir), options.defaults ?? {});
  }

  /** Reads a .wasm or .wat file. */
  static async fromFile(path: string, options: CompileOptions = {}): Promise<WasmModule> {
    let data: Uint8Array;
    try {
      data = await readFile(path);
    } catch (e) {
      throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return WasmModule.compile(data, options);
  }

  /** Instrumentation facts: imports, exports with their types, memory, metering counts. */
  get meta(): ModuleMeta {
    return this.loaded.meta;
  }

  get sha256(): string {
    return this.loaded.sha256;
  }

  /** Runs the module as a WASI command (its _start). */
  async run(options: WasmRunOptions = {}): Promise<WasmRunResult> {
    return this.runSync(options);
  }

  /** The same, synchronously (the guest runs on this thread either way). */
  runSync(options: WasmRunOptions = {}): WasmRunResult {
    return runOnce(this.loaded, { kind: 'start' }, { ...this.defaults, ...options });
  }

  /** Calls an export in a fresh instance: i32/f32/f64 as numbers, i64 as BigInt, in and out. */
  async invoke(name: string, ...values: (number | bigint | string)[]): Promise<WasmRunResult> {
    return this.invokeWith({}, name, ...values);
  }

  async invokeWith(options: WasmRunOptions, name: string, ...values: (number | bigint | string)[]): Promise<WasmRunResult> {
    return runOnce(this.loaded, { kind: 'invoke', name, args: values }, { ...this.defaults, ...options });
  }
}

export { InvalidModuleError };
