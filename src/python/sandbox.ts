// The Sandbox API: a fresh, isolated MicroPython interpreter per sandbox; globals persist across runs.
import { systemClock, systemRandomU32, type HostHooks } from '../engine/host.js';
import { EngineInstance } from '../engine/instance.js';
import { sandboxModule } from '../engine/module.js';
import type { ModuleVariant } from '../engine/abi.js';
import { RunGuard } from './run-guard.js';
import type { StopReason } from '../engine/stop.js';
import { UsageError, type ErrorKind, type RunErrorInfo } from './errors.js';
import { exceptionMessage, execSource, type ExecOutcome } from './interpreter.js';
import { resolveLimits, resolveSandboxOptions, type Limits, type SandboxOptions } from './options.js';
import { OutputCollector, type OutputCallbacks } from './output.js';
import { RunResult } from './result.js';

export interface RunOptions extends OutputCallbacks {
  /** Limits for this run only, over the sandbox's own. */
  limits?: Limits;
}

const STOP_TYPE: Record<StopReason, string> = {
  fuel: 'FuelExhausted',
  timeout: 'Timeout',
  memory: 'MemoryLimit',
  output: 'OutputLimit',
  denied: 'Denied',
};

/** Python exceptions that mean a limit was hit rather than a bug in the program. */
const KIND_OF_PYTHON_TYPE: Record<string, ErrorKind> = { MemoryError: 'memory' };

function errorOf(outcome: ExecOutcome): RunErrorInfo | null {
  switch (outcome.kind) {
    case 'ok':
      return null;
    case 'exception':
      if (outcome.type === 'SystemExit' && /SystemExit(: 0)?\s*$/.test(outcome.traceback)) return null;
      return {
        kind: KIND_OF_PYTHON_TYPE[outcome.type] ?? 'python',
        type: outcome.type,
        message: exceptionMessage(outcome.type, outcome.traceback),
        traceback: outcome.traceback,
      };
    case 'stopped':
      return { kind: outcome.reason, type: STOP_TYPE[outcome.reason], message: outcome.message, traceback: null };
    case 'fault':
      return { kind: 'fault', type: 'SandboxFault', message: outcome.message, traceback: null };
  }
}

/** A soft stop reports the limit, with the KeyboardInterrupt's traceback showing where it stopped. */
function limitError(stop: NonNullable<RunGuard['softStop']>, outcome: ExecOutcome): RunErrorInfo {
  const traceback = outcome.kind === 'exception' ? outcome.traceback : null;
  return { kind: stop.reason, type: STOP_TYPE[stop.reason], message: stop.message, traceback };
}

export class Sandbox {
  private instance: EngineInstance | null;
  private readonly limits: ReturnType<typeof resolveSandboxOptions>['limits'];

  private constructor(
    options: SandboxOptions | undefined,
    private readonly variant: ModuleVariant,
  ) {
    this.limits = resolveSandboxOptions(options).limits;
    this.instance = Sandbox.freshInstance(variant);
  }

  /** A fresh interpreter, isolated from every other sandbox in the process. */
  static async create(options?: SandboxOptions): Promise<Sandbox> {
    return new Sandbox(options, 'metered');
  }

  /**
   * For benchmarks only: a sandbox on the unmetered build, which cannot enforce fuel or deadlines.
   * Not exported from the package entry point.
   */
  static createUnmeteredForBenchmarks(options?: SandboxOptions): Sandbox {
    return new Sandbox(options, 'unmetered');
  }

  private static freshInstance(variant: ModuleVariant): EngineInstance {
    return new EngineInstance(sandboxModule(variant), idleHooks);
  }

  get disposed(): boolean {
    return this.instance === null;
  }

  async run(code: string, options: RunOptions = {}): Promise<RunResult> {
    return this.runSync(code, options);
  }

  /** The synchronous core of `run`, for embedders that cannot await. */
  runSync(code: string, options: RunOptions = {}): RunResult {
    const inst = this.instance;
    if (!inst) throw new UsageError('this sandbox has been disposed');
    if (typeof code !== 'string') throw new UsageError('code must be a string');
    const limits = resolveLimits(this.limits, options.limits);
    const output = new OutputCollector(limits.outputBytes, options);
    const started = performance.now();
    const guard = new RunGuard(inst, limits, started);
    inst.hooks = {
      stdout: output.stdout,
      stderr: output.stderr,
      clock: systemClock,
      randomU32: systemRandomU32,
      memoryLimitBytes: limits.memoryBytes,
      sleep: guard.sleep,
    };
    inst.resetMemoryPeak();
    inst.fuel.begin(limits.fuel, guard);
    const outcome = execSource(inst, code);
    const fuel = inst.fuel.end();
    const wallMs = performance.now() - started;
    const memoryPeakBytes = inst.memoryPeakBytes;
    inst.hooks = idleHooks;
    // After a soft stop the interrupt may still be pending if the guest never reached a check.
    const interruptConsumed = outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    const replaced = outcome.kind === 'stopped' || outcome.kind === 'fault' || (guard.softStop !== null && !interruptConsumed);
    if (replaced) this.instance = Sandbox.freshInstance(this.variant);
    const { stdout, stderr } = output.finish();
    const error = guard.softStop ? limitError(guard.softStop, outcome) : errorOf(outcome);
    return new RunResult(error === null, stdout, stderr, error, { fuel, memoryPeakBytes, wallMs }, replaced);
  }

  /** Releases the interpreter. The sandbox cannot run again. */
  dispose(): void {
    this.instance = null;
  }
}

/** Between runs the guest cannot execute, but any stray output is dropped rather than leaked. */
const idleHooks: HostHooks = {
  stdout: () => {},
  stderr: () => {},
  clock: systemClock,
  randomU32: systemRandomU32,
  memoryLimitBytes: 0,
  sleep: () => {},
};
