// One run of a compiled module in a fresh instance, inside the fence: imports checked against the
// grants before anything runs, memory and table caps at instantiation and on every grow, fuel and
// the deadline at fuel checkpoints and in sleeps, an output cap, and every stop as a typed error.
import { STOP_TYPE } from '../../core/stop.js';
import { FuelMeter, type FuelPolicy } from '../../engine/fuel.js';
import { FUEL_EXHAUSTED_IMPORT, FUEL_GLOBAL_EXPORT, HOST_IMPORT_MODULE } from '../../engine/abi.js';
import { blockingSleep } from '../../engine/host.js';
import { EXIT_CODES, UsageError } from '../../core/errors.js';
import { seededRandomU32, VirtualClock } from '../../core/determinism.js';
import { createWasi, WASI_MODULE, type WasiClock } from '../../abi/wasi-p1/wasi.js';
import { MEMORY_EXPORT, MEMORY_GROW_IMPORT, TABLE_GROW_IMPORT, type ModuleMeta } from '../../instrument/meter.js';
import { AuditTrail } from '../../core/audit.js';
import { buildPreopens, stdinOf, ungrantedImports } from './grants.js';
import { checkRunOptions, resolveWasmLimits, type HostFunction, type WasmRunOptions } from './options.js';
import { classify, WasmStop, type WasmErrorInfo, type WasmRunResult, type WasmValue } from './result.js';
import { convertArg } from './values.js';

const PAGE = 65536;

export interface RunTarget {
  module: WebAssembly.Module;
  meta: ModuleMeta;
}

/** What to call: a WASI command's _start, or an export with arguments. */
export type Entry = { kind: 'start' } | { kind: 'invoke'; name: string; args: unknown[] };

const decoder = new TextDecoder();

function concat(chunks: Uint8Array[]): string {
  return decoder.decode(Buffer.concat(chunks));
}

/**
 * Runs `entry` of `target` once, in a fresh instance. Throws UsageError for invalid options only.
 * `onCheckpoint` is called wherever the deadline is checked (fuel slices, sleeps, stdin waits): a
 * worker flushes batched output there.
 */
export function runOnce(target: RunTarget, entry: Entry, options: WasmRunOptions, onCheckpoint?: () => void): WasmRunResult {
  checkRunOptions(options);
  const limits = resolveWasmLimits(options.limits);
  const started = performance.now();
  const deadline = started + limits.timeoutMs;
  const audit = new AuditTrail();
  const { meta } = target;
  let memoryPeak = 0;
  let fuelUsed = 0;
  const finish = (error: WasmErrorInfo | null, exitCode: number, result?: WasmValue[]): WasmRunResult => ({
    ok: error === null,
    exitCode: error ? EXIT_CODES[error.kind] : exitCode,
    stdout: concat(stdout),
    stderr: concat(stderr),
    error,
    usage: { fuel: fuelUsed, memoryPeakBytes: memoryPeak, wallMs: performance.now() - started },
    audit: audit.toJSON(),
    ...(result ? { result } : {}),
  });
  const stdout: Uint8Array[] = [];
  const stderr: Uint8Array[] = [];

  // Refusals before any guest code runs.
  if (meta.denied) {
    return finish({ kind: 'denied', type: 'UnsupportedFeature', message: meta.denied }, 0);
  }
  const denied = ungrantedImports(meta, options);
  if (denied.length) {
    for (const d of denied) audit.add('denied-import', d);
    return finish({ kind: 'denied', type: 'DeniedImport', message: `ungranted imports: ${denied.join(', ')}` }, 0);
  }
  if ((meta.memoryInitialPages ?? 0) * PAGE > limits.memoryBytes) {
    return finish(
      { kind: 'memory', type: STOP_TYPE.memory, message: `initial memory ${meta.memoryInitialPages! * PAGE} bytes exceeds the cap of ${limits.memoryBytes}` },
      0,
    );
  }
  if (meta.tableInitial > limits.tableElements) {
    return finish({ kind: 'memory', type: 'TableLimit', message: `initial table of ${meta.tableInitial} elements exceeds the cap of ${limits.tableElements}` }, 0);
  }
  let call: { name: string; args: WasmValue[] } | null = null;
  if (entry.kind === 'invoke') {
    const sig = meta.exports[entry.name];
    if (!sig) throw new UsageError(`the module exports no function "${entry.name}" (exports: ${Object.keys(meta.exports).join(', ') || 'none'})`);
    if (sig.params.length !== entry.args.length) throw new UsageError(`${entry.name} takes ${sig.params.length} arguments, got ${entry.args.length}`);
    call = { name: entry.name, args: entry.args.map((v, i) => convertArg(v, sig.params[i], i)) };
  } else if (!meta.exports._start) {
    throw new UsageError('the module has no _start export (not a WASI command): call one of its exports with invoke');
  }
  const preopens = buildPreopens(options, limits);

  let meter: FuelMeter | null = null;
  let stopped: WasmStop | null = null;
  const stop = (s: WasmStop): never => {
    stopped ??= s;
    throw stopped;
  };
  const checkDeadline = () => {
    if (performance.now() > deadline) stop(new WasmStop('timeout', STOP_TYPE.timeout, `the run exceeded its ${limits.timeoutMs} ms deadline`));
  };
  // Where the guest spends time without writing (fuel slices, sleeps, stdin waits), batched output goes out.
  const checkpoint = () => {
    onCheckpoint?.();
    checkDeadline();
  };
  const policy: FuelPolicy = {
    checkpoint,
    exhausted: () => stop(new WasmStop('fuel', STOP_TYPE.fuel, `fuel exhausted (budget ${limits.fuel})`)),
  };

  const virtual = options.clock ? new VirtualClock(options.clock.fixedMs) : null;
  const clock: WasiClock = virtual
    ? {
        realtimeNs: () => BigInt(Math.floor(virtual.timeMs() * 1e6)),
        monotonicNs: () => BigInt(Math.floor(virtual.ticksMs() * 1e6)),
        sleep: (ms) => virtual.sleep(ms),
      }
    : {
        realtimeNs: () => BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6)),
        monotonicNs: () => process.hrtime.bigint(),
        sleep: (ms) => {
          const until = performance.now() + ms;
          for (;;) {
            checkpoint();
            const left = Math.min(until, deadline + 1) - performance.now();
            if (left <= 0) break;
            blockingSleep(Math.min(left, 50));
          }
          checkDeadline();
        },
      };
  let random: ((into: Uint8Array) => void) | null = null;
  if (options.seed !== undefined) {
    const next = seededRandomU32(options.seed);
    random = (into) => {
      for (let i = 0; i < into.length; i += 4) {
        const v = next();
        for (let j = 0; j < 4 && i + j < into.length; j++) into[i + j] = (v >>> (8 * j)) & 0xff;
      }
    };
  }

  let outputBytes = 0;
  const output = (chunks: Uint8Array[], sink: ((b: Uint8Array) => void) | undefined) => (bytes: Uint8Array) => {
    const room = limits.outputBytes - outputBytes;
    const part = bytes.length > room ? bytes.subarray(0, Math.max(0, room)) : bytes;
    if (part.length) {
      chunks.push(part);
      outputBytes += part.length;
      sink?.(part);
    }
    if (part.length < bytes.length) stop(new WasmStop('output', STOP_TYPE.output, `output exceeded ${limits.outputBytes} bytes`));
  };

  let instance: WebAssembly.Instance | null = null;
  const memory = (): WebAssembly.Memory => {
    const m = instance?.exports[MEMORY_EXPORT];
    if (!(m instanceof WebAssembly.Memory)) return stop(new WasmStop('fault', 'NoMemory', 'WASI needs an exported memory (or was called during instantiation)'));
    return m;
  };
  const wasi = createWasi({
    args: options.args ?? ['main.wasm'],
    env: options.env ?? {},
    stdin: stdinOf(options.stdin, checkpoint),
    stdout: output(stdout, options.onStdout),
    stderr: output(stderr, options.onStderr),
    preopens,
    clock,
    random,
    audit: (kind, detail) => audit.add(kind, detail),
    memory,
    checkpoint: checkDeadline,
  });

  const granted: Record<string, Record<string, HostFunction>> = {};
  for (const [key, fn] of Object.entries(options.imports ?? {})) {
    const dot = key.indexOf('.');
    const [mod, name] = [key.slice(0, dot), key.slice(dot + 1)];
    (granted[mod] ??= {})[name] = (...args) => {
      if (stopped) throw stopped;
      let value: ReturnType<HostFunction>;
      try {
        value = fn(...args);
      } catch (e) {
        // A stop raised for the guest (a worker's proxy past the deadline) keeps its kind.
        return stop(e instanceof WasmStop ? e : new WasmStop('fault', 'HostFunctionError', `host function ${key} threw: ${(e as Error)?.message ?? e}`));
      }
      if (value instanceof Promise) {
        value.catch(() => {}); // its outcome can no longer reach the guest
        return stop(new WasmStop('fault', 'HostFunctionError', `host function ${key} returned a promise: async host functions need isolation 'worker'`));
      }
      return value;
    };
  }
  const importObject: WebAssembly.Imports = {
    ...granted,
    [HOST_IMPORT_MODULE]: {
      [FUEL_EXHAUSTED_IMPORT]: () => {
        if (stopped) throw stopped;
        if (!meter) return stop(new WasmStop('fuel', STOP_TYPE.fuel, 'the start function used more than its instantiation budget'));
        meter.exhausted();
      },
      [MEMORY_GROW_IMPORT]: (pages: number, delta: number) => {
        const wanted = ((pages >>> 0) + (delta >>> 0)) * PAGE;
        if (wanted > limits.memoryBytes) {
          audit.add('memory-grow', `refused growth to ${wanted} bytes (cap ${limits.memoryBytes})`);
          return -1; // an impossible delta: the grow fails and returns -1 to the guest
        }
        memoryPeak = Math.max(memoryPeak, wanted);
        return delta;
      },
      [TABLE_GROW_IMPORT]: (size: number, delta: number) => {
        if ((size >>> 0) + (delta >>> 0) > limits.tableElements) {
          audit.add('table-grow', `refused growth to ${(size >>> 0) + (delta >>> 0)} elements (cap ${limits.tableElements})`);
          return -1;
        }
        return delta;
      },
    },
  };
  if (meta.imports.some((i) => i.module === WASI_MODULE)) importObject[WASI_MODULE] = wasi.imports as unknown as WebAssembly.ModuleImports;

  let exitCode = 0;
  let result: WasmValue[] | undefined;
  let error: WasmErrorInfo | null = null;
  try {
    memoryPeak = (meta.memoryInitialPages ?? 0) * PAGE;
    instance = new WebAssembly.Instance(target.module, importObject);
    const global = instance.exports[FUEL_GLOBAL_EXPORT] as WebAssembly.Global;
    meter = new FuelMeter(global);
    meter.begin(limits.fuel, policy);
    const counting = meter;
    virtual?.beginRun(() => counting.used()); // deterministic time advances with fuel
    if (call) {
      const init = instance.exports._initialize;
      if (typeof init === 'function' && call.name !== '_initialize') init();
      const fn = instance.exports[call.name] as (...a: WasmValue[]) => unknown;
      const value = fn(...call.args);
      const count = meta.exports[call.name].results.length;
      result = count === 0 ? [] : count === 1 ? [value as WasmValue] : (value as WasmValue[]);
    } else {
      (instance.exports._start as () => void)();
    }
  } catch (e) {
    error = classify(e, stopped, (code) => (exitCode = code));
  } finally {
    if (meter) fuelUsed = meter.end();
    wasi.close();
    const m = instance?.exports[MEMORY_EXPORT];
    if (m instanceof WebAssembly.Memory) memoryPeak = Math.max(memoryPeak, m.buffer.byteLength);
  }
  return finish(error, exitCode, error ? undefined : result);
}


