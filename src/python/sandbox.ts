// The Sandbox API: a fresh, isolated MicroPython interpreter per sandbox; globals persist across runs.
import type { ModuleVariant } from '../engine/abi.js';
import { WorkerSession } from '../pool/worker-session.js';
import { UsageError } from './errors.js';
import { HostBridge } from './host-functions.js';
import { InlineSession } from './inline-session.js';
import { netCalls } from './net/net-calls.js';
import { resolveLimits, resolveSandboxOptions, type Limits, type ResolvedLimits, type SandboxOptions } from './options.js';
import type { OutputCallbacks } from './output.js';
import type { RunResult } from './result.js';

export interface RunOptions extends OutputCallbacks {
  /** Limits for this run only, over the sandbox's own. */
  limits?: Limits;
}

export class Sandbox {
  private constructor(
    private readonly session: InlineSession | WorkerSession,
    private readonly limits: ResolvedLimits,
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

  private static async open(options: SandboxOptions | undefined, variant: ModuleVariant): Promise<Sandbox> {
    const { limits, isolation, modules, net, determinism, guestSpec } = resolveSandboxOptions(options);
    const bridge = new HostBridge(modules, net ? netCalls(net) : {});
    const session =
      isolation === 'worker'
        ? await WorkerSession.start(variant, guestSpec, bridge, determinism)
        : new InlineSession(variant, {
            spec: guestSpec,
            determinism,
            hostCall: (request, guard) => bridge.callSync(request, () => guard.waitBudgetMs()),
          });
    return new Sandbox(session, limits);
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
    if (!(this.session instanceof InlineSession)) throw new UsageError('runSync needs an inline sandbox');
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    return this.session.run(code, resolveLimits(this.limits, options.limits), options);
  }

  /** Releases the interpreter (and its worker). The sandbox cannot run again. */
  dispose(): void {
    this.session.dispose();
  }
}
