// Sandbox options: validated once, with clear errors, and merged with safe defaults.
import { UsageError } from '../core/errors.js';
import type { Engine, GuestSpec, Isolation, ResolvedSandboxOptions } from '../capabilities/resolved-options.js';
import { DEFAULT_LIMITS, LIMIT_RANGES, resolveLimits, type LimitRanges, type Limits, type ResolvedLimits } from '../core/limits.js';
import { hasAsyncFunction, hostModuleNames, type HostModules } from '../capabilities/host-functions.js';
import { resolveNetGrant, type NetGrant } from '../capabilities/net/allow-list.js';
import type { Determinism } from '../core/determinism.js';
import { resolveImportPolicy, type ImportPolicy } from '../capabilities/import-policy.js';
import { pythonEngine } from '../guests/registry.js';
import { resolve as resolvePath } from 'node:path';
import { normalize } from '../vfs/paths.js';
import type { FsQuota, MountOptions, VfsOptions } from '../vfs/vfs.js';
import { isSnapshotKey, SNAPSHOT_KEY_RULE, type SnapshotKey } from '../engine/snapshot.js';

export type { Engine, GuestSpec, Isolation, ResolvedSandboxOptions };

export interface SandboxOptions {
  /** The interpreter: 'micropython' (default) or 'cpython' (preview: see README, "CPython engine"). */
  engine?: Engine;
  limits?: Limits;
  /**
   * 'inline' runs the interpreter on the calling thread, blocking its event loop for each run (no
   * timers, no I/O callbacks until the run ends). 'worker' runs it in a worker thread that a watchdog
   * terminates if the in-wasm stop ever fails, at the cost of a slower start; runs can then be
   * cancelled (AbortSignal, interrupt) and the event loop keeps going. Default 'inline', or 'worker'
   * with an async host function or a network grant.
   */
  isolation?: Isolation;
  /**
   * Host functions the guest may import: `{ weather: { forecast } }` makes `import weather;
   * weather.forecast("Oslo")` work. Only data crosses (None, bool, int, float, str, bytes, list, tuple,
   * dict with str keys), deep-copied both ways; keyword arguments arrive as one last plain object.
   * A function that throws raises RuntimeError (TypeError, ValueError for RangeError) with its message.
   * Functions returning a Promise need a worker sandbox; a sandbox with any `async function` defaults
   * to one (a plain function returning a Promise is seen only when called: give isolation: 'worker').
   */
  modules?: HostModules;
  /** Environment variables the guest sees (`os.getenv`, `os.environ`). None by default. */
  env?: Record<string, string>;
  /** `sys.argv` of the guest. Empty by default. */
  argv?: string[];
  /**
   * Network access for the guest's `requests` module, only to the listed hosts; without it
   * `import requests` fails. Denied requests raise PermissionError (uncaught: kind 'denied').
   * A sandbox with a network grant defaults to worker isolation: an inline run blocks this thread,
   * so a server in the same process could not answer it.
   */
  net?: NetGrant;
  /**
   * Deterministic time: the clock starts at `fixedMs` (ms since the epoch) and advances only with
   * fuel used (about 1 ms per 2M units) and with `time.sleep`, which then returns at once.
   */
  clock?: { fixedMs: number };
  /** Seed for the guest's random numbers (`random`). With `clock`, runs are reproducible. */
  seed?: number;
  /**
   * Which modules the guest may import. Denied by default: uctypes (raw interpreter memory), js and
   * jsffi (engine 'cpython': ctypes and Pyodide's JS bridge modules). `deny` adds modules; `allow`
   * re-enables default-denied ones. A denied import raises
   * `ImportError: module 'X' is not allowed in this sandbox` (uncaught: kind 'denied').
   */
  imports?: ImportPolicy;
  /** Files the guest starts with, in memory: `{ '/input/data.csv': 'a,b\n' }`. Readable back with `sb.fs`. */
  files?: Record<string, string | Uint8Array>;
  /** Host directories in the sandbox: `[{ host: './data', guest: '/data', mode: 'ro' }]` (default 'ro'). */
  mounts?: MountOptions[];
  /** Limits of the in-memory files (bytes, count); `bytes` is also each rw mount's default write quota. */
  fsQuota?: FsQuota;
  /**
   * Signs snapshots (`sb.snapshot()`, HMAC-SHA256) and is required to restore them: only a holder
   * of the key can make a snapshot this sandbox accepts. Without it a snapshot carries a plain
   * checksum, which catches damage but not a forger. At least 16 bytes.
   */
  snapshotKey?: SnapshotKey;
  /**
   * An inline sandbox idle this long between calls hibernates: it keeps only what its interpreter
   * continues from (for CPython, the pages a session changed of the template's ~2,000: ~150 for a
   * small one) and gives its memory back; the next call wakes it first. The session is the same byte
   * for byte, so its runs and their fuel are unchanged. Not while the guest holds a file open.
   * Costs (docs/hibernation.md): up to ~100 ms to hibernate, 1-40 ms to wake. Default 10000 for
   * engine 'cpython'; `Infinity`: never. MicroPython sessions (small) and worker sandboxes stay awake.
   */
  hibernateAfterMs?: number;
}

/** An interpreter needs about 1.2 MiB initialised, and its module declares at most 2 GiB. */
const INTERPRETER_LIMIT_RANGES: LimitRanges = {
  ...LIMIT_RANGES,
  memoryBytes: { min: 2 * 1024 * 1024, max: 2 ** 31, unlimited: false },
};

/** The limits of a Python run: the four every engine has, within what an interpreter can run in. */
export function resolveInterpreterLimits(base: ResolvedLimits, limits: Limits | undefined): ResolvedLimits {
  return resolveLimits(base, limits, INTERPRETER_LIMIT_RANGES);
}

function checkKeys(what: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new UsageError(`unknown ${what} option "${key}" (known: ${allowed.join(', ')})`);
  }
}

function stringRecord(what: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be an object of strings`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new UsageError(`${what}.${k} must be a string, got ${typeof v}`);
  }
  return { ...(value as Record<string, string>) };
}

function stringList(what: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new UsageError(`${what} must be an array of strings`);
  return [...value];
}

function resolveFilesystem(options: SandboxOptions): VfsOptions {
  const vfs: VfsOptions = {};
  if (options.files !== undefined) {
    if (typeof options.files !== 'object' || options.files === null || Array.isArray(options.files)) {
      throw new UsageError("files must be an object: { '/path': string | Uint8Array }");
    }
    for (const [path, data] of Object.entries(options.files)) {
      if (!path.startsWith('/')) throw new UsageError(`files: "${path}" must be an absolute path`);
      if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new UsageError(`files["${path}"] must be a string or Uint8Array`);
    }
    vfs.files = { ...options.files };
  }
  if (options.mounts !== undefined) {
    if (!Array.isArray(options.mounts)) throw new UsageError('mounts must be an array of { host, guest, mode }');
    vfs.mounts = options.mounts.map((m, i) => {
      if (typeof m !== 'object' || m === null) throw new UsageError(`mounts[${i}] must be an object`);
      checkKeys(`mounts[${i}]`, m, ['host', 'guest', 'mode', 'quotaBytes']);
      if (typeof m.host !== 'string' || !m.host) throw new UsageError(`mounts[${i}].host must be a directory path`);
      if (typeof m.guest !== 'string' || !m.guest.startsWith('/') || normalize(m.guest) === '/') {
        throw new UsageError(`mounts[${i}].guest must be an absolute path other than /`);
      }
      if (m.mode !== undefined && m.mode !== 'ro' && m.mode !== 'rw') throw new UsageError(`mounts[${i}].mode must be 'ro' or 'rw'`);
      if (m.quotaBytes !== undefined && (!Number.isInteger(m.quotaBytes) || m.quotaBytes < 0)) {
        throw new UsageError(`mounts[${i}].quotaBytes must be a non-negative integer`);
      }
      return { host: resolvePath(m.host), guest: normalize(m.guest), mode: m.mode ?? 'ro', quotaBytes: m.quotaBytes };
    });
  }
  if (options.fsQuota !== undefined) {
    const q = options.fsQuota;
    if (typeof q !== 'object' || q === null) throw new UsageError('fsQuota must be an object: { bytes, files }');
    checkKeys('fsQuota', q, ['bytes', 'files']);
    for (const key of ['bytes', 'files'] as const) {
      if (q[key] !== undefined && (!Number.isInteger(q[key]) || q[key]! < 0)) throw new UsageError(`fsQuota.${key} must be a non-negative integer`);
    }
    vfs.quota = { ...q };
  }
  return vfs;
}

const NOT_DETERMINISTIC: Determinism = { fixedMs: null, seed: null };

function resolveDeterminism(options: SandboxOptions): Determinism {
  let fixedMs: number | null = null;
  if (options.clock !== undefined) {
    const c = options.clock as { fixedMs?: unknown };
    if (typeof c !== 'object' || c === null) throw new UsageError('clock must be an object: { fixedMs }');
    checkKeys('clock', c, ['fixedMs']);
    if (typeof c.fixedMs !== 'number' || !Number.isFinite(c.fixedMs) || c.fixedMs < 0) {
      throw new UsageError('clock.fixedMs must be a non-negative number of ms since the epoch');
    }
    fixedMs = c.fixedMs;
  }
  const seed = options.seed ?? null;
  if (seed !== null && (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)) {
    throw new UsageError(`seed must be an integer from 0 to ${2 ** 32 - 1}`);
  }
  return { fixedMs, seed };
}

export function resolveSandboxOptions(options: SandboxOptions | undefined): ResolvedSandboxOptions {
  if (options === undefined) {
    return {
      engine: 'micropython',
      limits: DEFAULT_LIMITS,
      isolation: 'inline',
      modules: {},
      net: null,
      determinism: NOT_DETERMINISTIC,
      denied: resolveImportPolicy(undefined),
      vfs: {},
      guestSpec: null,
      snapshotKey: null,
      hibernateAfterMs: DEFAULT_HIBERNATE_AFTER_MS.micropython,
    };
  }
  if (typeof options !== 'object' || options === null) throw new UsageError('options must be an object');
  checkKeys('sandbox', options, ['engine', 'limits', 'isolation', 'modules', 'env', 'argv', 'net', 'clock', 'seed', 'imports', 'files', 'mounts', 'fsQuota', 'snapshotKey', 'hibernateAfterMs']);
  // Where the guest would wait on the calling thread's own event loop (a Promise from a host
  // function, a fetch to a server in this process), an inline run would deadlock: use a worker.
  const isolation = options.isolation ?? (hasAsyncFunction(options.modules) || options.net !== undefined ? 'worker' : 'inline');
  if (isolation !== 'inline' && isolation !== 'worker') {
    throw new UsageError(`isolation must be 'inline' or 'worker', got ${String(isolation)}`);
  }
  const spec: GuestSpec = {};
  const names = hostModuleNames(options.modules);
  if (Object.keys(names).length) spec.modules = names;
  if (options.env !== undefined) spec.env = stringRecord('env', options.env);
  if (options.argv !== undefined) spec.argv = stringList('argv', options.argv);
  const net = resolveNetGrant(options.net);
  if (net) spec.net = true;
  if (options.engine !== undefined && options.engine !== 'micropython' && options.engine !== 'cpython') {
    throw new UsageError(`engine must be 'micropython' or 'cpython', got ${String(options.engine)}`);
  }
  const engine = options.engine ?? 'micropython';
  const engineImports = pythonEngine(engine).imports;
  const denied = resolveImportPolicy(options.imports, engineImports);
  if (denied.join() !== resolveImportPolicy(undefined, engineImports).join()) spec.denied = denied;
  return {
    engine,
    limits: resolveInterpreterLimits(DEFAULT_LIMITS, options.limits),
    isolation,
    modules: options.modules ?? {},
    net,
    determinism: resolveDeterminism(options),
    denied,
    vfs: resolveFilesystem(options),
    guestSpec: Object.keys(spec).length ? JSON.stringify(spec) : null,
    snapshotKey: resolveSnapshotKey(options.snapshotKey),
    hibernateAfterMs: resolveHibernateAfter(options.hibernateAfterMs, engine),
  };
}

/** The longest delay a Node timer keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** After how long idle an inline sandbox hibernates, per engine (null: never). */
const DEFAULT_HIBERNATE_AFTER_MS: Record<Engine, number | null> = { micropython: null, cpython: 10_000 };

function resolveHibernateAfter(value: unknown, engine: Engine): number | null {
  if (value === undefined) return DEFAULT_HIBERNATE_AFTER_MS[engine];
  if (typeof value !== 'number' || !(value >= 0 && (value <= MAX_TIMER_MS || value === Infinity))) {
    throw new UsageError(`hibernateAfterMs must be a number of ms from 0 to ${MAX_TIMER_MS}, or Infinity (never)`);
  }
  return value === Infinity ? null : value;
}

function resolveSnapshotKey(key: unknown): SnapshotKey | null {
  if (key === undefined) return null;
  if (!isSnapshotKey(key)) throw new UsageError(SNAPSHOT_KEY_RULE);
  return key;
}
