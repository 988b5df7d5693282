// Baseline runner around the stock MicroPython WebAssembly (PyScript variant) loader.
//
// Notes on the stock loader (micropython.mjs, v1.27.0):
//  * `loadMicroPython({ stdout, stderr, linebuffer, heapsize, pystack })`; with the default
//    `linebuffer: true` the callbacks receive one decoded line at a time WITHOUT the trailing
//    newline; a trailing partial line stays in `Module._stdoutBuffer` until the next newline.
//  * Defaults: heapsize 1 MiB (MicroPython GC heap), pystack 2048.
//  * Each load re-reads and re-instantiates micropython.wasm and overwrites global state on
//    `globalThis` (`Module`, `proxy_js_ref`, `proxy_js_map`, `pyProxyFinalizationRegistry`,
//    ...), so by itself only the most recently loaded instance works; StockSession.run points
//    globalThis.Module at its own instance before each run, which is enough for the programs here
//    (no JS proxies) to run on any loaded instance (two heap sizes take turns).
//  * `runPython` throws a `PythonError` (with `.type`) when the program raises.

const STOCK_SPEC = '@micropython/micropython-webassembly-pyscript/micropython.mjs';

export interface StockOptions {
  /** MicroPython GC heap in bytes (stock default 1 MiB). */
  heapsize?: number;
  /** MicroPython Python-stack size (stock default 2048). */
  pystack?: number;
}

interface StockModuleInternals {
  _stdoutBuffer?: number[];
  _stderrBuffer?: number[];
  _textDecoder?: TextDecoder;
}

export interface StockInstance {
  runPython(code: string): unknown;
  _module: StockModuleInternals;
}

interface StockLoaderModule {
  loadMicroPython(options: {
    stdout?: (line: string) => void;
    stderr?: (line: string) => void;
    linebuffer?: boolean;
    heapsize?: number;
    pystack?: number;
  }): Promise<StockInstance>;
}

let loaderPromise: Promise<StockLoaderModule> | undefined;

/** Imports the stock loader once (the module import itself is not part of any timing). */
export function stockLoader(): Promise<StockLoaderModule> {
  loaderPromise ??= import(STOCK_SPEC) as Promise<StockLoaderModule>;
  return loaderPromise;
}

export interface StockRunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** "Type: message" when the program raised. */
  error?: string;
}

/** One loaded stock instance with per-run stdout/stderr capture. */
export class StockSession {
  private out: string[] = [];
  private err: string[] = [];

  private constructor(private readonly mp: StockInstance) {}

  static async load(opts: StockOptions = {}): Promise<StockSession> {
    const { loadMicroPython } = await stockLoader();
    // Callbacks close over `session`, which is assigned right after the load resolves.
    let session: StockSession | undefined;
    const mp = await loadMicroPython({
      ...opts,
      linebuffer: true,
      stdout: (line) => session?.out.push(line, '\n'),
      stderr: (line) => session?.err.push(line, '\n'),
    });
    session = new StockSession(mp);
    return session;
  }

  /** Runs `code` (parse + compile + execute) and returns exactly what it printed. */
  run(code: string): StockRunResult {
    this.out = [];
    this.err = [];
    let error: string | undefined;
    // The loader's JS glue reaches its instance through globalThis.Module, which the last load set:
    // point it at this one, so that two sessions (two heap sizes) can take turns.
    (globalThis as { Module?: unknown }).Module = this.mp._module;
    try {
      this.mp.runPython(code);
    } catch (e) {
      const pe = e as { type?: string; message?: string };
      error = `${pe.type ?? 'Error'}: ${pe.message ?? String(e)}`;
    }
    this.flushPartialLines();
    return { ok: error === undefined, stdout: this.out.join(''), stderr: this.err.join(''), error };
  }

  /**
   * Drops user globals and collects garbage so that a re-used instance starts each run from a
   * (nearly) clean `__main__`. Not timed by callers.
   */
  reset(): void {
    this.run(RESET_SNIPPET);
  }

  /** Moves any unterminated last line (print(..., end='')) out of the loader's line buffer. */
  private flushPartialLines(): void {
    const m = this.mp._module;
    const dec = m._textDecoder ?? new TextDecoder();
    if (m._stdoutBuffer && m._stdoutBuffer.length > 0) {
      this.out.push(dec.decode(new Uint8Array(m._stdoutBuffer)));
      m._stdoutBuffer = [];
    }
    if (m._stderrBuffer && m._stderrBuffer.length > 0) {
      this.err.push(dec.decode(new Uint8Array(m._stderrBuffer)));
      m._stderrBuffer = [];
    }
  }
}

const RESET_SNIPPET = [
  'for _k in list(globals()):',
  "    if not _k.startswith('__'):",
  '        del globals()[_k]',
  'del _k',
  'import gc',
  'gc.collect()',
  'del gc',
  '',
].join('\n');

/** Loads a brand-new stock instance, runs `code` once and returns its captured output. */
export async function freshStockRun(code: string, opts: StockOptions = {}): Promise<StockRunResult> {
  const s = await StockSession.load(opts);
  return s.run(code);
}
