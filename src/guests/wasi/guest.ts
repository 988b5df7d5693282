// A WebAssembly module as a guest of the one Session (src/session/session.ts), configured for one run:
// imports are checked against the grants before anything runs, the instance is made inside the run
// (its start function is guest code, under the run's limits), memory and table caps hold on every
// grow, and every stop is a typed error. It declares what it has not: no soft stop (nothing in a
// module can be asked to stop, so a limit is the hard stop at once) and no snapshots (each run is a
// fresh instance).
import { EXIT_CODES, UsageError } from '../../core/errors.js';
import { HostStop, stopInfo } from '../../core/stop.js';
import type { SessionClock } from '../guest.js';
import { FuelMeter, type FuelPolicy } from '../../engine/fuel.js';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../../engine/abi.js';
import type { HostHooks } from '../../engine/host.js';
import type { RunGuard } from '../../engine/run-guard.js';
import { createWasi, WASI_MODULE, type WasiClock } from '../../abi/wasi-p1/wasi.js';
import { MEMORY_EXPORT, MEMORY_GROW_IMPORT, TABLE_GROW_IMPORT, type ModuleMeta } from '../../instrument/meter.js';
import type { Backend } from '../../vfs/types.js';
import { VirtualFS } from '../../vfs/vfs.js';
import type { Fuel, Guest, GuestInstance } from '../guest.js';
import { idleHooks } from '../python-common/idle-hooks.js';
import { buildMounts, stdinOf, ungrantedImports } from './grants.js';
import type { HostFunction, ResolvedWasmLimits, WasmRunOptions } from './options.js';
import { classify, ModuleFault, type WasmErrorInfo, type WasmRunResult, type WasmValue } from './result.js';
import { convertArg } from './values.js';

const PAGE = 65536;

export interface RunTarget {
  module: WebAssembly.Module;
  meta: ModuleMeta;
}

/** What to call: a WASI command's _start, or an export with arguments. */
export type Entry = { kind: 'start' } | { kind: 'invoke'; name: string; args: unknown[] };

/** One run of `entry` of `target`; `onCheckpoint` is called where the guest spends time without writing (a worker flushes batched output there). */
export interface ModuleRun {
  target: RunTarget;
  entry: Entry;
  options: WasmRunOptions;
  limits: ResolvedWasmLimits;
  onCheckpoint?: () => void;
}

/** The meter of an instance made inside the run: the Session's budget waits until the instance exists. */
class LateFuel implements Fuel {
  meter: FuelMeter | null = null;
  private run: { limit: number; policy: FuelPolicy } | null = null;

  constructor(private readonly onCheckpoint?: () => void) {}

  begin(limit: number, policy: FuelPolicy): void {
    const flush = this.onCheckpoint;
    this.run = { limit, policy: flush ? { checkpoint: () => (flush(), policy.checkpoint()), exhausted: () => policy.exhausted() } : policy };
    this.meter?.begin(limit, this.run.policy);
  }

  bind(global: WebAssembly.Global): void {
    this.meter = new FuelMeter(global);
    if (this.run) this.meter.begin(this.run.limit, this.run.policy);
  }

  end(): number {
    this.run = null;
    return this.meter?.end() ?? 0;
  }

  used(): number {
    return this.meter?.used() ?? 0;
  }

  grant(units: number): void {
    this.meter?.grant(units);
  }
}

export class ModuleInstance implements GuestInstance {
  hooks: HostHooks = idleHooks;
  readonly fuel: LateFuel;
  memoryPeakBytes = 0;
  /** Refused growth is the module's to handle (memory.grow returns -1), never the run's error. */
  readonly memoryCapReached = false;

  constructor(
    readonly vfs: VirtualFS,
    readonly clock: SessionClock,
    onCheckpoint?: () => void,
  ) {
    this.fuel = new LateFuel(onCheckpoint);
  }

  resetMemoryPeak(): void {
    this.memoryPeakBytes = 0;
  }

  release(): void {}
}

/** What stops a module before any of it runs: a feature, an ungranted import, an initial size past a cap. */
function refusalOf(meta: ModuleMeta, options: WasmRunOptions, limits: ResolvedWasmLimits): { error: WasmErrorInfo; denied: string[] } | null {
  if (meta.denied) return { error: { kind: 'denied', type: 'UnsupportedFeature', message: meta.denied }, denied: [] };
  const denied = ungrantedImports(meta, options);
  if (denied.length) return { error: { kind: 'denied', type: 'DeniedImport', message: `ungranted imports: ${denied.join(', ')}` }, denied };
  if ((meta.memoryInitialPages ?? 0) * PAGE > limits.memoryBytes) {
    const message = `initial memory ${meta.memoryInitialPages! * PAGE} bytes exceeds the cap of ${limits.memoryBytes}`;
    return { error: stopInfo('memory', message), denied: [] };
  }
  if (meta.tableInitial > limits.tableElements) {
    const message = `initial table of ${meta.tableInitial} elements exceeds the cap of ${limits.tableElements}`;
    return { error: { kind: 'memory', type: 'TableLimit', message }, denied: [] };
  }
  return null;
}

/** The export to call with its arguments converted, or null for _start; UsageError for a wrong call. */
function callOf(meta: ModuleMeta, entry: Entry): { name: string; args: WasmValue[] } | null {
  if (entry.kind === 'start') {
    if (!meta.exports._start) throw new UsageError('the module has no _start export (not a WASI command): call one of its exports with invoke');
    return null;
  }
  const sig = meta.exports[entry.name];
  if (!sig) throw new UsageError(`the module exports no function "${entry.name}" (exports: ${Object.keys(meta.exports).join(', ') || 'none'})`);
  if (sig.params.length !== entry.args.length) throw new UsageError(`${entry.name} takes ${sig.params.length} arguments, got ${entry.args.length}`);
  return { name: entry.name, args: entry.args.map((v, i) => convertArg(v, sig.params[i], i)) };
}

function wasiClock(inst: ModuleInstance, onCheckpoint?: () => void): WasiClock {
  const virtual = inst.clock.virtual;
  const sleep = (ms: number) => {
    onCheckpoint?.();
    inst.hooks.sleep(ms); // the Session's: virtual, or waiting no longer than the deadline
  };
  if (virtual) {
    return { realtimeNs: () => BigInt(Math.floor(virtual.timeMs() * 1e6)), monotonicNs: () => BigInt(Math.floor(virtual.ticksMs() * 1e6)), sleep };
  }
  return {
    realtimeNs: () => BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6)),
    monotonicNs: () => process.hrtime.bigint(),
    sleep,
  };
}

/** Granted host functions, each stopping the run with a fault if it throws or returns a promise. */
function grantedImports(options: WasmRunOptions): WebAssembly.Imports {
  const granted: Record<string, Record<string, HostFunction>> = {};
  for (const [key, fn] of Object.entries(options.imports ?? {})) {
    const dot = key.indexOf('.');
    (granted[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = (...args) => {
      let value: ReturnType<HostFunction>;
      try {
        value = fn(...args);
      } catch (e) {
        // A stop raised for the guest (a worker's proxy past the deadline) keeps its kind.
        if (e instanceof HostStop || e instanceof ModuleFault) throw e;
        throw new ModuleFault('HostFunctionError', `host function ${key} threw: ${(e as Error)?.message ?? e}`);
      }
      if (value instanceof Promise) {
        value.catch(() => {}); // its outcome can no longer reach the guest
        throw new ModuleFault('HostFunctionError', `host function ${key} returned a promise: async host functions need isolation 'worker'`);
      }
      return value;
    };
  }
  return granted;
}

/**
 * The guest of one run. Throws UsageError for a wrong entry or mount, unless the module is refused
 * first (that is the run's result).
 */
export function moduleGuest(run: ModuleRun): Guest<ModuleInstance, never, null, WasmRunResult> {
  const { target, options, limits, onCheckpoint } = run;
  const { meta } = target;
  const refusal = refusalOf(meta, options, limits);
  const call = refusal ? null : callOf(meta, run.entry);
  const mounts = refusal ? [] : buildMounts(options, limits);
  let guard: RunGuard | null = null;
  const ended: { error: WasmErrorInfo | null; exitCode: number; result?: WasmValue[] } = { error: null, exitCode: 0 };

  function exec(inst: ModuleInstance): void {
    const hooks = inst.hooks;
    const checkpoint = () => guard!.checkpoint();
    let instance: WebAssembly.Instance | null = null;
    const memory = (): WebAssembly.Memory => {
      const m = instance?.exports[MEMORY_EXPORT];
      if (!(m instanceof WebAssembly.Memory)) throw new ModuleFault('NoMemory', 'WASI needs an exported memory (or was called during instantiation)');
      return m;
    };
    const preopens: { guest: string; tree: Backend }[] = options.files ? [{ guest: '/', tree: inst.vfs.memory }, ...mounts] : mounts;
    const seeded = inst.clock.seeded;
    const wasi = createWasi({
      args: options.args ?? ['main.wasm'],
      env: options.env ?? {},
      stdin: stdinOf(options.stdin, () => (onCheckpoint?.(), checkpoint())),
      stdout: (bytes) => hooks.stdout(bytes),
      stderr: (bytes) => hooks.stderr(bytes),
      preopens,
      clock: wasiClock(inst, onCheckpoint),
      random: seeded
        ? (into) => {
            for (let i = 0; i < into.length; i += 4) {
              const v = hooks.randomU32();
              for (let j = 0; j < 4 && i + j < into.length; j++) into[i + j] = (v >>> (8 * j)) & 0xff;
            }
          }
        : null,
      audit: (kind, detail) => hooks.refused?.(kind, detail),
      memory,
      checkpoint,
    });
    const importObject: WebAssembly.Imports = {
      ...grantedImports(options),
      [HOST_IMPORT_MODULE]: {
        [FUEL_EXHAUSTED_IMPORT]: () => {
          if (!inst.fuel.meter) throw new HostStop('fuel', 'the start function used more than its instantiation budget');
          inst.fuel.meter.exhausted();
        },
        [MEMORY_GROW_IMPORT]: (pages: number, delta: number) => {
          const wanted = ((pages >>> 0) + (delta >>> 0)) * PAGE;
          if (wanted > hooks.memoryLimitBytes) {
            hooks.refused?.('memory-grow', `refused growth to ${wanted} bytes (cap ${hooks.memoryLimitBytes})`);
            return -1; // an impossible delta: the grow fails and returns -1 to the guest
          }
          inst.memoryPeakBytes = Math.max(inst.memoryPeakBytes, wanted);
          return delta;
        },
        [TABLE_GROW_IMPORT]: (size: number, delta: number) => {
          const wanted = (size >>> 0) + (delta >>> 0);
          if (wanted > limits.tableElements) {
            hooks.refused?.('table-grow', `refused growth to ${wanted} elements (cap ${limits.tableElements})`);
            return -1;
          }
          return delta;
        },
      },
    };
    if (meta.imports.some((i) => i.module === WASI_MODULE)) importObject[WASI_MODULE] = wasi.imports as unknown as WebAssembly.ModuleImports;
    try {
      inst.memoryPeakBytes = (meta.memoryInitialPages ?? 0) * PAGE;
      instance = new WebAssembly.Instance(target.module, importObject);
      inst.fuel.bind(instance.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global);
      if (call) {
        const init = instance.exports._initialize;
        if (typeof init === 'function' && call.name !== '_initialize') init();
        const value = (instance.exports[call.name] as (...a: WasmValue[]) => unknown)(...call.args);
        const count = meta.exports[call.name].results.length;
        ended.result = count === 0 ? [] : count === 1 ? [value as WasmValue] : (value as WasmValue[]);
      } else {
        (instance.exports._start as () => void)();
      }
    } finally {
      wasi.close();
      const m = instance?.exports[MEMORY_EXPORT];
      if (m instanceof WebAssembly.Memory) inst.memoryPeakBytes = Math.max(inst.memoryPeakBytes, m.buffer.byteLength);
    }
  }

  return {
    files: () => new VirtualFS(options.files ? { files: options.files, quota: { bytes: limits.writeQuotaBytes } } : {}),
    instantiate: (vfs, clock) => new ModuleInstance(vfs, clock, onCheckpoint),
    stopMessage: (reason, { fuel, timeoutMs }) => (reason === 'fuel' ? `fuel exhausted (budget ${fuel})` : `the run exceeded its ${timeoutMs} ms deadline`),
    channel(runGuard) {
      guard = runGuard;
      return { hostCall: () => '', value: () => null };
    },
    exec(inst) {
      if (refusal) {
        for (const d of refusal.denied) inst.hooks.refused?.('denied-import', d);
        ended.error = refusal.error;
        return { outcome: { kind: 'ok' }, wrapped: false }; // nothing of it ran: the instance is intact
      }
      try {
        exec(inst);
        return { outcome: { kind: 'ok' }, wrapped: false };
      } catch (e) {
        ended.error = classify(e, (code) => (ended.exitCode = code));
        // After proc_exit or a stop the instance cannot go on: the Session replaces it.
        return { outcome: ended.error ? { kind: 'fault', message: ended.error.message } : { kind: 'exit', status: ended.exitCode }, wrapped: false };
      }
    },
    classify: () => ended.error && { ...ended.error, traceback: null },
    result: (r) => ({
      ok: r.error === null,
      exitCode: r.error ? EXIT_CODES[r.error.kind] : ended.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      error: r.error && ({ kind: r.error.kind, type: r.error.type, message: r.error.message } as WasmErrorInfo),
      usage: r.usage,
      audit: r.audit,
      ...(ended.result && !r.error ? { result: ended.result } : {}),
    }),
    capture() {
      throw new UsageError('a module keeps no state between runs: there is nothing to snapshot');
    },
    snapshot() {
      throw new UsageError('a module keeps no state between runs: there is nothing to snapshot');
    },
  };
}
