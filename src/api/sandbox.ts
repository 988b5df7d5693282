// The Sandbox API: a fresh, isolated interpreter per sandbox; globals persist across runs.
import type { ModuleVariant } from '../engine/abi.js';
import { WorkerSession } from '../pool/worker-session.js';
import { UsageError } from '../core/errors.js';
import { openSession } from './sessions.js';
import { resolveInterpreterLimits, resolveSandboxOptions, type SandboxOptions } from './options.js';
import type { Limits, ResolvedLimits } from '../core/limits.js';
import type { OutputCallbacks } from '../core/output.js';
import type { RunResult } from '../guests/python-common/result.js';
import type { HostValue } from '../capabilities/host-codec.js';
import { resolveProgramSpec, type ProgramSpec } from '../guests/python-common/program.js';
import { abortable, checkSignal, untilAborted } from '../core/abort.js';
import { signSnapshot, SnapshotError } from '../engine/snapshot.js';
import { unwrapFsResult, type FsOp, type SandboxFiles } from '../capabilities/sandbox-fs.js';
import type { ResolvedSandboxOptions } from '../capabilities/resolved-options.js';
import { compileEngine } from '../guests/preload.js';
import { pythonEngine, type PythonEngine } from '../guests/registry.js';
import { Session } from '../session/session.js';

export interface RunOptions extends OutputCallbacks {
  /** Limits for this run only, over the sandbox's own. */
  limits?: Limits;
  /**
   * Globals set before the code runs, as data (deep copies; see HostValue): pass data this way
   * rather than pasting it into the code. Names are Python identifiers not starting with `__`.
   */
  inputs?: Record<string, HostValue>;
  /** The file name tracebacks (and `error.frames`) give for this code. Default "<stdin>". */
  filename?: string;
  /**
   * Cancels the run: an already-aborted signal never starts it; an abort during a run raises
   * KeyboardInterrupt in it and rejects the promise within 100 ms; the run's worker is terminated
   * if the run has not ended 2 s after the abort (the next call on the sandbox waits for that). A sandbox
   * whose isolation was not set moves to a worker at its first run with a signal (an inline run
   * holds the thread that would see the abort); one made inline on purpose sees the abort only when
   * the run ends. Either way the promise rejects with `signal.reason` (an AbortError).
   */
  signal?: AbortSignal;
}

let openVariant: (options: SandboxOptions | undefined, variant: ModuleVariant) => Promise<Sandbox>;

/** Where a restored session comes from: a snapshot's bytes, or a fork's copy, read by the engine. */
type Restorer = (engine: PythonEngine, resolved: ResolvedSandboxOptions) => unknown;

/** A failure while restoring is the snapshot's, unless it is the options' (a UsageError). */
function asSnapshotError(e: unknown): Error {
  if (e instanceof SnapshotError || e instanceof UsageError) return e;
  return new SnapshotError(`snapshot could not be restored: ${(e as Error)?.message ?? String(e)}`);
}

export class Sandbox {
  /** An inline session moving to a worker (see `run`): runs wait for the move. */
  private moving: Promise<void> | null = null;
  /** A run whose promise was rejected on abort while it still ends (at most ABORT_CANCEL_MS). */
  private ending: Promise<void> | null = null;
  /** Hibernates an inline session idle for `hibernateAfterMs` (refreshed after each call). */
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    private session: Session | WorkerSession,
    private readonly engine: PythonEngine,
    private readonly limits: ResolvedLimits,
    private readonly options: SandboxOptions | undefined,
    private readonly variant: ModuleVariant,
    private readonly hibernateAfterMs: number | null,
  ) {
    this.idle();
  }

  /** A fresh interpreter, isolated from every other sandbox in the process. */
  static async create(options?: SandboxOptions): Promise<Sandbox> {
    return Sandbox.open(options, 'metered');
  }

  static {
    openVariant = (options, variant) => Sandbox.open(options, variant);
  }

  /**
   * Continues a session from `sb.snapshot()` bytes, in this or another process. Grants and limits
   * come from `options`, never from the snapshot. A foreign, truncated or altered snapshot is refused
   * with a SnapshotError before anything is loaded. A CPython session's snapshot restores with
   * `engine: 'cpython'` in `options` (src/guests/cpython/snapshot.ts).
   */
  static async restore(snapshot: Uint8Array, options?: SandboxOptions): Promise<Sandbox> {
    return Sandbox.open(options, 'metered', (engine, resolved) => engine.readSnapshot(snapshot, 'metered', resolved, resolved.snapshotKey ?? undefined));
  }

  private static async open(options: SandboxOptions | undefined, variant: ModuleVariant, restore?: Restorer): Promise<Sandbox> {
    const resolved = resolveSandboxOptions(options);
    await compileEngine(resolved.engine, variant);
    const engine = pythonEngine(resolved.engine);
    const sandbox = (session: Session | WorkerSession) => new Sandbox(session, engine, resolved.limits, options, variant, resolved.hibernateAfterMs);
    if (!restore) return sandbox(await openSession(resolved, variant));
    // A failure is the snapshot's, unless it is the options' (checked first, as UsageError).
    try {
      return sandbox(await openSession(resolved, variant, () => restore(engine, resolved)));
    } catch (e) {
      throw asSnapshotError(e);
    }
  }

  /**
   * The session's whole state (globals, functions, objects, open generators), portable to another
   * process or machine with the same pyfence version: see `Sandbox.restore`. Not during a run.
   */
  async snapshot(): Promise<Uint8Array> {
    if (this.ending) await this.settled();
    return this.idleAfter(async () => this.signed(await this.session.snapshot()));
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
    if (this.session instanceof Session) throw new UsageError('interrupt needs a worker sandbox (isolation: "worker")');
    this.session.interrupt();
  }

  /** The sandbox's files (in memory and mounted), between runs. */
  get fs(): SandboxFiles {
    const call = async <T>(op: FsOp): Promise<T> => {
      if (this.ending) await this.settled();
      return this.idleAfter(async () => unwrapFsResult<T>(await this.session.fsOp(op)));
    };
    return {
      readFile: (path) => call({ op: 'readFile', path }),
      writeFile: (path, data) => call({ op: 'writeFile', path, data }),
      list: (path) => call({ op: 'list', path }),
    };
  }

  /** The synchronous form of `snapshot`, for inline sandboxes only. */
  snapshotSync(): Uint8Array {
    if (!(this.session instanceof Session)) throw new UsageError('snapshotSync needs an inline sandbox');
    const session = this.session;
    return this.idleAfterSync(() => this.signed(session.snapshot()));
  }

  /** An independent copy of this session, with the same options (grants, limits, isolation). */
  async fork(): Promise<Sandbox> {
    // Within one process, an inline session's state needs no encoding.
    const inline = this.inlineState();
    if (inline) return Sandbox.open(this.options, this.variant, inline);
    if (this.ending) await this.settled();
    const bytes = await this.session.snapshot();
    return Sandbox.open(this.options, this.variant, (engine, resolved) => engine.readSnapshot(bytes, this.variant, resolved));
  }

  /**
   * Waits for a cancelled run to end: its promise was rejected soon after the abort. Callers await it
   * only when there is one, so that calls during an inline run stay synchronous (and refused).
   */
  private async settled(): Promise<void> {
    while (this.ending) {
      const ending = this.ending;
      await ending;
      if (this.ending === ending) this.ending = null;
    }
  }

  /** An inline session's state, to open as another session (no compression needed within one process). */
  private inlineState(): Restorer | null {
    if (!(this.session instanceof Session)) return null;
    const state = this.session.captureState();
    this.idle();
    return () => state;
  }

  /**
   * Moves an inline session, with its state and files, to a worker for good: a run there can be
   * cancelled, an inline one holds the thread that would see the abort. Once; runs meanwhile wait.
   */
  private moveToWorker(): Promise<void> {
    this.moving ??= (async () => {
      const inline = this.session;
      const moved = await Sandbox.open({ ...this.options, isolation: 'worker' }, this.variant, this.inlineState()!);
      if (inline.disposed) return moved.dispose();
      this.session = moved.session;
      inline.dispose();
    })().catch((e) => {
      this.moving = null; // still inline: a later run may try again
      throw e;
    });
    return this.moving;
  }

  get disposed(): boolean {
    return this.session.disposed;
  }

  /**
   * Runs `code` in this sandbox; a Python exception or a limit is a result (`ok: false`), not a
   * rejection. An inline sandbox runs on the calling thread and blocks its event loop until the run
   * ends; a worker sandbox does not.
   */
  async run(code: string, options: RunOptions = {}): Promise<RunResult> {
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    const limits = resolveInterpreterLimits(this.limits, options.limits);
    const program = this.program(options);
    const signal = checkSignal(options.signal);
    // A run given a signal goes to a worker, unless the sandbox was made inline on purpose.
    if (signal && this.options?.isolation === undefined && this.session instanceof Session) {
      signal.throwIfAborted();
      await untilAborted(signal, this.moveToWorker());
    } else if (this.moving) {
      await this.moving;
    }
    if (this.ending) await this.settled();
    const session = this.session;
    if (session instanceof Session) return this.idleAfter(() => abortable(signal, async () => session.run(code, limits, options, program)));
    return abortable(signal, () => session.run(code, limits, options, false, program), {
      interrupt: () => session.interrupt(),
      cancel: () => session.cancel(),
      onAbandoned: (ending) => (this.ending = ending),
    });
  }

  /** The synchronous form of `run`, for inline sandboxes only. */
  runSync(code: string, options: RunOptions = {}): RunResult {
    if (!(this.session instanceof Session)) throw new UsageError('runSync needs an inline sandbox');
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    const limits = resolveInterpreterLimits(this.limits, options.limits);
    const program = this.program(options);
    const signal = checkSignal(options.signal);
    signal?.throwIfAborted();
    const session = this.session;
    const result = this.idleAfterSync(() => session.run(code, limits, options, program));
    signal?.throwIfAborted();
    return result;
  }

  /**
   * Hibernates this sandbox now, as `hibernateAfterMs` does when it is idle: its memory goes back and
   * only what it continues from is kept; the next call wakes it. Inline sandboxes; false if the session
   * cannot (a MicroPython or worker sandbox, a file held open, disposed).
   */
  hibernate(): boolean {
    return this.session instanceof Session && this.session.hibernate();
  }

  /** Whether the sandbox is hibernating (its next call wakes it first). */
  get hibernating(): boolean {
    return this.session instanceof Session && this.session.hibernating;
  }

  /** `work` (a call on the session), then the idle countdown restarted, however the call ended. */
  private async idleAfter<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.idle();
    }
  }

  private idleAfterSync<T>(work: () => T): T {
    try {
      return work();
    } finally {
      this.idle();
    }
  }

  /** Starts (or restarts) the idle countdown to hibernation of an inline session. */
  private idle(): void {
    if (this.hibernateAfterMs === null || !(this.session instanceof Session) || this.session.disposed) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      if (this.session instanceof Session) this.session.hibernate();
    }, this.hibernateAfterMs);
    // A process with nothing left to do does not wait for it.
    this.idleTimer.unref();
  }

  private program(options: RunOptions): ProgramSpec {
    return this.engine.program(resolveProgramSpec(options.inputs, options.filename), options.filename !== undefined);
  }

  /** Releases the interpreter (and its worker). The sandbox cannot run again. */
  dispose(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.session.dispose();
  }

  /** `using sb = await Sandbox.create()`: disposed at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using sb = await Sandbox.create()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}

/**
 * Internal, for benchmarks and watchdog tests only: a sandbox on the unmetered build, which cannot
 * stop itself (no fuel, no deadline inside wasm; with engine 'cpython', the metered module with no
 * limit set on its meter). Not a method of Sandbox and not exported from the package entry point, so
 * no embedder reaches it through the public API.
 */
export function createUnmeteredSandbox(options?: SandboxOptions): Promise<Sandbox> {
  return openVariant(options, 'unmetered');
}
