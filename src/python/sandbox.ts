// The Sandbox API: a fresh, isolated MicroPython interpreter per sandbox; globals persist across runs.
import type { ModuleVariant } from '../engine/abi.js';
import type { WorkerSession } from '../pool/worker-session.js';
import { UsageError } from './errors.js';
import { InlineSession } from './inline-session.js';
import { openSession } from './sessions.js';
import { resolveLimits, resolveSandboxOptions, type Limits, type ResolvedLimits, type SandboxOptions } from './options.js';
import type { OutputCallbacks } from './output.js';
import type { RunResult } from './result.js';
import { readSnapshot, type RestoredSession } from './session-snapshot.js';
import { signSnapshot, SnapshotError, type SnapshotKey } from '../engine/snapshot.js';
import { runFsOp, unwrapFsResult, type FsOp, type SandboxFiles } from './sandbox-fs.js';
import { CPythonSession } from '../cpython/session.js';
import { openCPythonSession } from '../cpython/open.js';

export interface RunOptions extends OutputCallbacks {
  /** Limits for this run only, over the sandbox's own. */
  limits?: Limits;
}

export class Sandbox {
  private constructor(
    private readonly session: InlineSession | WorkerSession | CPythonSession,
    private readonly limits: ResolvedLimits,
    private readonly options: SandboxOptions | undefined,
    private readonly variant: ModuleVariant,
  ) {}

  /** A fresh interpreter, isolated from every other sandbox in the process. */
  static async create(options?: SandboxOptions): Promise<Sandbox> {
    return Sandbox.open(options, 'metered');
  }

  /**
   * Internal, for benchmarks and watchdog tests: a sandbox on the unmetered build, which cannot stop
   * itself (no fuel, no deadline inside wasm). Not exported from the package entry point.
   */
  static async createUnmetered(options?: SandboxOptions): Promise<Sandbox> {
    return Sandbox.open(options, 'unmetered');
  }

  /**
   * Continues a session from `sb.snapshot()` bytes, in this or another process. Grants and limits
   * come from `options`, never from the snapshot. A foreign, truncated or altered snapshot is refused
   * with a SnapshotError before anything is loaded.
   */
  static async restore(snapshot: Uint8Array, options?: SandboxOptions): Promise<Sandbox> {
    return Sandbox.open(options, 'metered', (maxMemoryBytes, key) => readSnapshot(snapshot, 'metered', maxMemoryBytes, key));
  }

  private static async open(
    options: SandboxOptions | undefined,
    variant: ModuleVariant,
    restore?: (maxMemoryBytes: number, key: SnapshotKey | undefined) => RestoredSession,
  ): Promise<Sandbox> {
    const resolved = resolveSandboxOptions(options);
    if (resolved.engine === 'cpython') return new Sandbox(openCPythonSession(resolved, restore !== undefined), resolved.limits, options, variant);
    if (!restore) return new Sandbox(await openSession(resolved, variant), resolved.limits, options, variant);
    // Options are the caller's and fail as UsageError above; from here on a failure is the snapshot's.
    try {
      const restored = restore(resolved.limits.memoryBytes, resolved.snapshotKey ?? undefined);
      return new Sandbox(await openSession(resolved, variant, restored), resolved.limits, options, variant);
    } catch (e) {
      if (e instanceof SnapshotError || e instanceof UsageError) throw e;
      throw new SnapshotError(`snapshot could not be restored: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /**
   * The session's whole state (globals, functions, objects, open generators), portable to another
   * process or machine with the same pyfence version: see `Sandbox.restore`. Not during a run.
   */
  async snapshot(): Promise<Uint8Array> {
    return this.signed(await this.session.snapshot());
  }

  /** Made where the key is not (a worker, the engine): signed here when the sandbox has a key. */
  private signed(bytes: Uint8Array): Uint8Array {
    const key = this.options?.snapshotKey;
    return key === undefined ? bytes : signSnapshot(bytes, key);
  }

  /**
   * Raises KeyboardInterrupt in the code running now, as Ctrl-C does in Python; the session and its
   * state survive. Worker sandboxes only: an inline sandbox's run occupies the thread that would call this.
   */
  interrupt(): void {
    if (this.session instanceof InlineSession) throw new UsageError('interrupt needs a worker sandbox (isolation: "worker")');
    this.session.interrupt();
  }

  /** The sandbox's files (in memory and mounted), between runs. */
  get fs(): SandboxFiles {
    const call = async <T>(op: FsOp): Promise<T> => {
      if (this.session instanceof InlineSession) return unwrapFsResult<T>(runFsOp(this.session.vfs, op));
      return unwrapFsResult<T>(await this.session.fsOp(op));
    };
    return {
      readFile: (path) => call({ op: 'readFile', path }),
      writeFile: (path, data) => call({ op: 'writeFile', path, data }),
      list: (path) => call({ op: 'list', path }),
    };
  }

  /** The synchronous form of `snapshot`, for inline sandboxes only. */
  snapshotSync(): Uint8Array {
    if (!(this.session instanceof InlineSession)) throw new UsageError('snapshotSync needs an inline sandbox');
    return this.signed(this.session.snapshot());
  }

  /** An independent copy of this session, with the same options (grants, limits, isolation). */
  async fork(): Promise<Sandbox> {
    if (this.session instanceof InlineSession) {
      // No compression needed within one process.
      const restored = { state: this.session.captureState(), files: Object.fromEntries(this.session.vfs.memory.files()) };
      return Sandbox.open(this.options, this.variant, () => restored);
    }
    const bytes = await this.session.snapshot();
    return Sandbox.open(this.options, this.variant, (max) => readSnapshot(bytes, this.variant, max));
  }

  get disposed(): boolean {
    return this.session.disposed;
  }

  async run(code: string, options: RunOptions = {}): Promise<RunResult> {
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    return this.session.run(code, resolveLimits(this.limits, options.limits), options);
  }

  /** The synchronous form of `run`, for inline sandboxes only. */
  runSync(code: string, options: RunOptions = {}): RunResult {
    if (!(this.session instanceof InlineSession || this.session instanceof CPythonSession)) throw new UsageError('runSync needs an inline sandbox');
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    return this.session.run(code, resolveLimits(this.limits, options.limits), options);
  }

  /** Releases the interpreter (and its worker). The sandbox cannot run again. */
  dispose(): void {
    this.session.dispose();
  }
}
