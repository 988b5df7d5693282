// What every server runs code with: the grants its operator chose, fresh sandboxes on worker pools
// (a run never blocks the server's thread) — one pool per enabled Python engine and one for
// WebAssembly modules — behind one gate that bounds concurrency and queueing for all of them.
import { UsageError } from '../../core/errors.js';
import { resolveSandboxOptions, type Engine, type SandboxOptions } from '../../api/options.js';
import type { ResolvedLimits } from '../../core/limits.js';
import { WasmModule } from '../../api/wasm-module.js';
import { instrumenter } from '../../instrument/worker-client.js';
import { Pool } from '../../pool/pool.js';
import { WasmPool } from '../../pool/wasm-pool.js';
import { enabledEngines } from './engines.js';
import { requestFiles } from './files.js';
import { Gate } from './gate.js';
import { narrowLimits } from './limits.js';
import { checkRequestKind, isModuleRequest, moduleRunOptions, moduleSource } from './module-request.js';
import { moduleResultJson, pythonResultJson } from './result-json.js';
import { DEFAULT_OUT_FILES_BYTES, OUT_DIR, outFiles } from './out-files.js';
import type { Collected } from '../../pool/run-files.js';
import type { RunRequest, RunResultJson } from './schemas.js';

export interface RunnerOptions {
  /** Grants and limits: from the server's flags only. */
  grants: SandboxOptions;
  /** The Python engines requests may choose, the default first. Default: the grants' engine alone. */
  engines?: readonly string[];
  /** Runs at once (worker threads per engine). */
  concurrency: number;
  /** Runs that may wait for a slot; past it calls fail with OverloadError. */
  maxQueue: number;
  /** Bytes of /out/ files a one-shot Python run hands back. Default 2 MiB; 0 for none. */
  outFilesBytes?: number;
}

/** Watches one run as it goes: the output as the program writes it. */
export interface RunWatch {
  onOutput?(stream: 'stdout' | 'stderr', text: string): void;
}

export class Runner {
  readonly limits: ResolvedLimits;
  readonly gate: Gate;
  readonly grants: SandboxOptions;
  /** Enabled Python engines; the first is the default. */
  readonly engines: readonly Engine[];
  private readonly pools = new Map<Engine, Pool>();
  private modules: WasmPool | null = null;

  constructor(private readonly options: RunnerOptions) {
    this.engines = enabledEngines(options.engines, options.grants.engine ?? 'micropython');
    this.grants = { ...options.grants, engine: this.engines[0], isolation: 'worker' };
    this.limits = resolveSandboxOptions(this.grants).limits;
    this.gate = new Gate(options.concurrency, options.maxQueue);
    // Bad grants for any enabled engine are the operator's to fix at start, not a request's.
    for (const engine of this.engines) resolveSandboxOptions({ ...this.grants, engine });
    this.pool(this.engines[0]);
  }

  get defaultEngine(): Engine {
    return this.engines[0];
  }

  /**
   * Resolves when the default engine's workers are ready (other pools start on first use). The
   * instrumenting worker starts and warms up then (not competing with the start for a core): a
   * server's first module meets neither.
   */
  async ready(): Promise<void> {
    await this.pool(this.engines[0]).ready();
    instrumenter().prewarm();
  }

  /** Checks a Python request's engine against the enabled ones. */
  engineFor(engine: string | undefined): Engine {
    if (engine === undefined) return this.engines[0];
    if (!(this.engines as readonly string[]).includes(engine)) throw new UsageError(`engine: "${engine}" is not enabled on this server (enabled: ${this.engines.join(', ')})`);
    return engine as Engine;
  }

  /**
   * The checks `run` makes before it starts (what to run, engine, limits, files, module size), for a
   * caller that must answer a bad request before it commits to a streamed answer; and overload.
   */
  check(request: RunRequest): void {
    checkRequestKind(request);
    if (isModuleRequest(request)) {
      moduleSource(request);
      moduleRunOptions(this.grants, this.limits, request);
    } else {
      this.engineFor(request.engine);
      narrowLimits(this.limits, request.limits);
      requestFiles(this.grants, request.files);
    }
    if (this.gate.full) throw this.gate.overload();
  }

  /** Python code or a WebAssembly module, in a fresh sandbox with the server's grants. */
  async run(request: RunRequest, watch: RunWatch = {}): Promise<RunResultJson> {
    checkRequestKind(request);
    if (isModuleRequest(request)) return this.runModule(request, watch);
    if (typeof request.code !== 'string') throw new UsageError('code must be a string');
    const engine = this.engineFor(request.engine);
    const limits = narrowLimits(this.limits, request.limits);
    const files = requestFiles(this.grants, request.files);
    // The pool's workers start with the server's files; a request's own are written for its run only.
    const place = files === this.grants.files ? undefined : request.files;
    const code = request.code;
    const outBytes = this.options.outFilesBytes ?? DEFAULT_OUT_FILES_BYTES;
    let collected: Collected | undefined;
    const result = await this.gate.run(() =>
      this.pool(engine).run(code, {
        limits,
        onStdout: (text) => watch.onOutput?.('stdout', text),
        onStderr: (text) => watch.onOutput?.('stderr', text),
        files: {
          ...(place ? { place } : {}),
          ...(outBytes > 0 ? { collect: { dir: OUT_DIR, maxBytes: outBytes } } : {}),
          onCollected: (c) => (collected = c),
        },
      }),
    );
    const json = pythonResultJson(result, engine);
    if (collected && (collected.files.length || collected.omitted.length)) {
      const out = outFiles(collected);
      json.files = out.files;
      if (out.omitted.length) json.filesOmitted = out.omitted;
    }
    return json;
  }

  /** Lets queued and running work finish, then releases the workers. */
  async close(): Promise<void> {
    await this.gate.idle();
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    await this.modules?.close();
  }

  private async runModule(request: RunRequest, watch: RunWatch): Promise<RunResultJson> {
    const source = moduleSource(request);
    const decoder = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const stream = (name: 'stdout' | 'stderr') => (bytes: Uint8Array) => watch.onOutput?.(name, decoder[name].decode(bytes, { stream: true }));
    const options = { ...moduleRunOptions(this.grants, this.limits, request), ...(watch.onOutput ? { onStdout: stream('stdout'), onStderr: stream('stderr') } : {}) };
    this.modules ??= new WasmPool({ size: this.gate.maxRunning, maxQueue: this.gate.maxRunning });
    const pool = this.modules;
    // Compiling holds no run slot: it has its own deadline and heap bound, on the instrumenting
    // worker (src/instrument/worker-client.ts), which takes one module at a time.
    const module = await WasmModule.compile(source, { pool });
    return this.gate.run(async () => moduleResultJson(await module.run(options)));
  }

  /** The engine's pool, started on first use; the gate does the queueing, so it holds one run per worker. */
  private pool(engine: Engine): Pool {
    let pool = this.pools.get(engine);
    if (!pool) {
      pool = new Pool({ ...this.grants, engine, size: this.options.concurrency, maxQueue: this.options.concurrency });
      this.pools.set(engine, pool);
    }
    return pool;
  }
}
