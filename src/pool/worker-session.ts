// A session in a worker thread, with a watchdog: if the in-wasm stop ever fails to end a run, the
// worker is terminated at the deadline plus a margin, and the next run starts in a fresh worker.
import type { Worker } from 'node:worker_threads';
import { monotonicMs } from '../core/clock.js';
import type { ModuleVariant } from '../engine/abi.js';
import { pythonEngine } from '../guests/registry.js';
import type { Engine } from '../capabilities/resolved-options.js';
import { UsageError, type ErrorInfo } from '../core/errors.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { OutputCallbacks } from '../core/output.js';
import type { ProgramSpec } from '../guests/python-common/program.js';
import type { HostBridge } from '../capabilities/host-functions.js';
import type { Determinism } from '../core/determinism.js';
import type { VfsOptions } from '../vfs/vfs.js';
import type { FsOp } from '../capabilities/sandbox-fs.js';
import { unpackCall, type CarriedAnswer, type CarriedCall } from './host-call-transport.js';
import type { AuditEvent } from '../core/audit.js';
import { RunOutcome, type PlainResult, type RunResult } from '../guests/python-common/result.js';
import type { FromWorker, ToWorker, WithoutOutput } from './worker-protocol.js';
import { lostWorkerError, ReplaceableWorker, spawnWorker, WATCHDOG_MARGIN_MS, watchRun } from './watched-run.js';
import type { RunFilesRequest } from './run-files.js';

export { WATCHDOG_MARGIN_MS };

/** What every worker of a session is started with. */
export interface WorkerSetup {
  engine: Engine;
  variant: ModuleVariant;
  guestSpec: string | null;
  bridge: HostBridge;
  determinism: Determinism;
  denied: string[];
  vfs: VfsOptions;
}

/** A restored session to start the first worker from, as the engine read it, and its setup's limits. */
export interface WorkerRestore {
  state: unknown;
  limits: ResolvedLimits;
}

function spawnSessionWorker(setup: WorkerSetup, interrupt: SharedArrayBuffer, restored?: WorkerRestore): Promise<Worker> {
  const engine = pythonEngine(setup.engine);
  const session = {
    engine: { name: setup.engine, variant: setup.variant, shared: engine.shared(setup.variant) },
    guestSpec: setup.guestSpec,
    granted: setup.bridge.grantedNames(),
    determinism: setup.determinism,
    denied: setup.denied,
    vfs: setup.vfs,
    restored,
    interrupt,
  };
  const answer = async (call: CarriedCall): Promise<CarriedAnswer> => {
    const refused: AuditEvent[] = [];
    const reply = await setup.bridge.call(unpackCall(call), (kind, detail) => refused.push({ kind, detail }));
    return { reply, refused };
  };
  return spawnWorker(session, answer, engine.workerStackMb ? { stackSizeMb: engine.workerStackMb } : undefined);
}

export class WorkerSession {
  /** null once disposed. A replaced worker starts fresh, not from `restored` (as an inline session does). */
  private thread: ReplaceableWorker | null;
  private nextId = 1;
  private busy = false;
  /** The running code was ended by `cancel`: its worker's exit is expected. */
  private cancelled = false;

  private constructor(
    worker: Worker,
    setup: WorkerSetup,
    private readonly interruptCell: SharedArrayBuffer,
  ) {
    this.thread = new ReplaceableWorker(() => spawnSessionWorker(setup, interruptCell), worker);
  }

  static async start(setup: WorkerSetup, restored?: WorkerRestore): Promise<WorkerSession> {
    const interrupt = new SharedArrayBuffer(4);
    return new WorkerSession(await spawnSessionWorker(setup, interrupt, restored), setup, interrupt);
  }

  /** Ends the running code by force: its worker is terminated and replaced, the session starts afresh. */
  cancel(): void {
    if (!this.busy || !this.thread) return;
    this.cancelled = true;
    void this.thread.get().then((w) => w.terminate());
  }

  /** Raises KeyboardInterrupt in the running code (as Ctrl-C would); the session survives. */
  interrupt(): void {
    if (!this.busy) return;
    const cell = new Int32Array(this.interruptCell);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
  }

  async snapshot(): Promise<Uint8Array> {
    const reply = await this.request('snapshot', (id) => ({ type: 'snapshot', id }));
    return reply.bytes;
  }

  async fsOp(op: FsOp): Promise<{ value: unknown } | { code: string; message: string }> {
    return (await this.request('fs', (id) => ({ type: 'fs', id, op }))).result;
  }

  /** One request to the worker between runs, and its reply. */
  private async request<T extends 'snapshot' | 'fs'>(type: T, message: (id: number) => ToWorker): Promise<Extract<FromWorker, { type: T }>> {
    if (!this.thread) throw new UsageError('this sandbox has been disposed');
    if (this.busy) throw new UsageError(`this sandbox is running code; use ${type} between runs`);
    const worker = await this.thread.get();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready' || msg.id !== id) return;
        worker.off('message', onMessage);
        if (msg.type === type) resolve(msg as Extract<FromWorker, { type: T }>);
        else if (msg.type === 'failed') reject(msg.usage ? new UsageError(msg.message) : new Error(msg.message));
        else reject(new Error(`unexpected ${msg.type} from worker`));
      };
      worker.on('message', onMessage);
      worker.postMessage(message(id));
    });
  }

  get disposed(): boolean {
    return this.thread === null;
  }

  get running(): boolean {
    return this.busy;
  }

  /** `fresh`: the run gets a new interpreter, prepared in the worker after the previous run. */
  async run(code: string, limits: ResolvedLimits, callbacks: OutputCallbacks, fresh = false, program?: ProgramSpec, files?: RunFilesRequest): Promise<RunResult> {
    if (!this.thread) throw new UsageError('this sandbox has been disposed');
    if (this.busy) throw new UsageError('this sandbox is already running code; await the previous run');
    this.busy = true;
    this.cancelled = false;
    try {
      return await this.runOnWorker(await this.thread.get(), code, limits, callbacks, fresh, program, files);
    } finally {
      this.busy = false;
    }
  }

  private async runOnWorker(worker: Worker, code: string, limits: ResolvedLimits, cb: OutputCallbacks, fresh: boolean, program?: ProgramSpec, files?: RunFilesRequest): Promise<RunResult> {
    const started = monotonicMs();
    const carried = files && (files.place || files.collect) ? { place: files.place, collect: files.collect } : undefined;
    const message: ToWorker = { type: 'run', id: this.nextId++, code, limits, fresh, program, ...(carried ? { files: carried } : {}) };
    const { end, stdout, stderr } = await watchRun(worker, message, limits.timeoutMs + WATCHDOG_MARGIN_MS, cb);
    // Cancelled as it ended: its worker is being terminated, so it is replaced all the same.
    if (this.cancelled) return this.replaced(worker, { kind: 'fault', type: 'SandboxFault', message: 'the run was cancelled: its worker was terminated' }, stdout, stderr, started);
    if (end.type === 'result') {
      if (end.collected) files?.onCollected?.(end.collected);
      return RunOutcome.fromPlain({ ...(end.result as WithoutOutput<PlainResult>), stdout, stderr });
    }
    // The worker's session could not finish the run: a fault, with a fresh worker, as inline.
    if (end.type === 'failed') return this.replaced(worker, { kind: 'fault', type: 'SandboxFault', message: `host error during the run: ${end.message}` }, stdout, stderr, started);
    return this.replaced(worker, lostWorkerError(end.lost, `time limit of ${limits.timeoutMs} ms exceeded`), stdout, stderr, started);
  }

  /** Ends `worker` and starts the next run's; the run's result says why, with what it printed. */
  private async replaced(worker: Worker, error: ErrorInfo, stdout: string, stderr: string, started: number): Promise<RunResult> {
    await this.thread?.replace(worker);
    const usage = { fuel: 0, memoryPeakBytes: 0, wallMs: monotonicMs() - started };
    return new RunOutcome(false, stdout, stderr, { ...error, traceback: null }, usage, true).typed();
  }

  dispose(): void {
    void this.thread?.end().catch(() => {});
    this.thread = null;
  }
}
