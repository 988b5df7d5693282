// Options of a WebAssembly run: limits with the Python sandbox's meaning and defaults, grants
// (args, env, stdin, files, mounts, host functions), determinism. Validated once, at the boundary.
import { UsageError } from '../../core/errors.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../../core/limits.js';
import { DEFAULT_FS_QUOTA, type MountOptions } from '../../vfs/vfs.js';

/** A module's limits: every engine's four, with tableElements and writeQuotaBytes. */
export type WasmLimits = Limits;

export type ResolvedWasmLimits = Required<Limits>;

export const DEFAULT_WASM_LIMITS: ResolvedWasmLimits = {
  ...DEFAULT_LIMITS,
  tableElements: 100_000,
  writeQuotaBytes: DEFAULT_FS_QUOTA.bytes,
};

export type StdinReader = (max: number) => Uint8Array | null;

/**
 * A granted host function, called with the guest's values (i64 as BigInt). It may return a promise
 * only with isolation 'worker' (the guest's thread then waits for it, within the deadline).
 */
export type HostFunction = (...args: (number | bigint)[]) => number | bigint | void | Promise<number | bigint | void>;

export interface WasmRunOptions {
  /** argv, the program name first (default: ["main.wasm"]). */
  args?: string[];
  env?: Record<string, string>;
  /**
   * The guest's stdin: all of it, or a reader giving up to `max` bytes, an empty array at the end,
   * or null when nothing is available yet (asked again shortly, within the deadline).
   */
  stdin?: string | Uint8Array | StdinReader;
  /** In-memory files, preopened as "/". */
  files?: Record<string, string | Uint8Array>;
  /** Host directories, each preopened at its guest path. */
  mounts?: MountOptions[];
  limits?: Limits;
  /** Seed of random_get (deterministic randomness). */
  seed?: number;
  /** Deterministic time: starts at fixedMs, advances with fuel and sleeps (which do not wait). */
  clock?: { fixedMs: number };
  /** Host functions the module may import, by "module.name". Everything else is refused. */
  imports?: Record<string, HostFunction>;
  /** Provide wasi_snapshot_preview1 (default true). */
  wasi?: boolean;
  /** Called with each chunk as the guest writes it (the result still holds all of it). */
  onStdout?: (bytes: Uint8Array) => void;
  onStderr?: (bytes: Uint8Array) => void;
}

const KNOWN = ['args', 'env', 'stdin', 'files', 'mounts', 'limits', 'seed', 'clock', 'imports', 'wasi', 'onStdout', 'onStderr'];

export function resolveWasmLimits(limits: Limits = {}): ResolvedWasmLimits {
  return resolveLimits(DEFAULT_WASM_LIMITS, limits);
}

export function checkRunOptions(options: WasmRunOptions): void {
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new UsageError(`unknown option "${key}" (known: ${KNOWN.join(', ')})`);
  }
  if (options.stdin !== undefined && !['string', 'function'].includes(typeof options.stdin) && !(options.stdin instanceof Uint8Array)) throw new UsageError('stdin must be a string, a Uint8Array or a reader function');
  if (options.args && (!Array.isArray(options.args) || options.args.some((a) => typeof a !== 'string'))) throw new UsageError('args must be an array of strings');
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (typeof v !== 'string' || k.includes('=') || k.includes('\0') || v.includes('\0')) throw new UsageError(`env.${k} must be a string without "=" in its name and without NUL`);
  }
  for (const [k, v] of Object.entries(options.imports ?? {})) {
    if (typeof v !== 'function' || !/^[^.]+\..+$/.test(k)) throw new UsageError(`imports must map "module.name" to a function, got "${k}"`);
  }
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 2 ** 32 - 1)) {
    throw new UsageError(`seed must be an integer from 0 to ${2 ** 32 - 1}`);
  }
  if (options.clock !== undefined && (typeof options.clock?.fixedMs !== 'number' || options.clock.fixedMs < 0)) {
    throw new UsageError('clock must be { fixedMs } with a non-negative number of ms since the epoch');
  }
  if (options.files && (options.mounts ?? []).some((m) => m.guest.replace(/\/+$/, '') === '')) {
    throw new UsageError('files cannot be combined with a mount at "/": both would be the root');
  }
}
