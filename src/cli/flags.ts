// The CLI's flags, one definition and one parser each, shared by every command: limits and grants
// (`run`, `repl`, `wasm`, `serve`, `mcp`, `worker`), the servers' capacity and binding, and the
// version. Values are parsed by units.ts; a bad value is a usage error (exit 2).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { DEFAULT_HOST } from '../servers/core/bind.js';
import type { MountOptions } from '../vfs/vfs.js';
import { parseCount, parseDuration, parsePort, parseSize } from './units.js';

/** From src/cli/ and from dist/cli/ alike, the package's own package.json is two levels up. */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Adapts a value parser to commander, which reports InvalidArgumentError as a usage error. */
export function flagValue<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

export const collect = (value: string, previous: string[]) => [...previous, value];

/** HOST:GUEST[:ro|:rw] (the host path may itself contain ':' only before the guest part). */
export function parseMount(spec: string): MountOptions {
  const m = /^(.+):(\/[^:]*)(?::(ro|rw))?$/.exec(spec);
  if (!m) throw new UsageError(`--mount takes HOST:GUEST[:ro|:rw] with an absolute GUEST path, got "${spec}"`);
  return { host: m[1], guest: m[2], mode: (m[3] as 'ro' | 'rw' | undefined) ?? 'ro' };
}

export function parseEnv(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

// ---- limits and grants: every command that runs guests ----

export interface LimitFlags {
  fuel?: number;
  timeout?: number;
  memory?: number;
  maxOutput?: number;
  writeQuota?: number;
}

/** --fixed-clock's optional MS; anything else was the next argument, taken by mistake (see takeBackSwallowed). */
type FixedClock = number | true | { swallowed: string };

export interface GrantFlags {
  env: string[];
  mount: string[];
  seed?: number;
  fixedClock?: FixedClock;
}

function fixedClockValue(text: string): FixedClock {
  try {
    return parseCount(text, 0);
  } catch {
    return { swallowed: text };
  }
}

export function addLimitFlags(command: Command): Command {
  return command
    .addOption(new Option('--fuel <units>', `CPU budget in fuel units (default ${DEFAULT_LIMITS.fuel.toExponential()}, about 1-3 s of CPU by engine)`).argParser(flagValue(parseCount)))
    .addOption(
      new Option('--timeout <duration>', `wall-clock limit with a unit: ms, s or m, e.g. 300ms or 2s (default ${DEFAULT_LIMITS.timeoutMs / 1000}s)`).argParser(
        flagValue(parseDuration),
      ),
    )
    .addOption(
      new Option('--memory <size>', `memory cap: B, KiB/MiB/GiB or KB/MB/GB, e.g. 16MiB (default ${DEFAULT_LIMITS.memoryBytes / 2 ** 20}MiB)`).argParser(
        flagValue(parseSize),
      ),
    )
    .addOption(new Option('--max-output <size>', `cap on stdout+stderr (default ${DEFAULT_LIMITS.outputBytes / 2 ** 10}KiB)`).argParser(flagValue(parseSize)))
    .addOption(new Option('--write-quota <size>', 'bytes the guest may write to rw mounts and in-memory files (default 64MiB)').argParser(flagValue(parseSize)));
}

export function addGrantFlags(command: Command): Command {
  return command
    .option('--env <name=value>', 'set an environment variable (repeatable; default: none)', collect, [])
    .option('--mount <host:guest[:ro|:rw]>', 'show a host directory to the guest at GUEST (repeatable; default read-only)', collect, [])
    .addOption(new Option('--seed <n>', "seed for the guest's random numbers (reproducible runs)").argParser(flagValue((text) => parseCount(text, 0))))
    .addOption(new Option('--fixed-clock [ms]', 'deterministic time: start at MS since the epoch (default 0), advance with fuel').argParser(fixedClockValue));
}

/**
 * `--fixed-clock FILE`: the optional value took the command's first positional argument; give it
 * back. Commands without positional arguments pass none, and a swallowed word is then an error.
 */
export function takeBackSwallowed(flags: GrantFlags, positionals?: { file?: string; args: string[] }): { file?: string; args: string[] } | undefined {
  const clock = flags.fixedClock;
  if (typeof clock !== 'object') return positionals;
  flags.fixedClock = true;
  if (!positionals) throw new UsageError(`--fixed-clock takes MS (a whole number), got "${clock.swallowed}"`);
  return { file: clock.swallowed, args: positionals.file === undefined ? positionals.args : [positionals.file, ...positionals.args] };
}

export function limitsFrom(flags: LimitFlags) {
  return { fuel: flags.fuel, timeoutMs: flags.timeout, memoryBytes: flags.memory, outputBytes: flags.maxOutput };
}

export function clockFrom(flags: GrantFlags): { fixedMs: number } | undefined {
  if (flags.fixedClock === undefined) return undefined;
  return { fixedMs: typeof flags.fixedClock === 'number' ? flags.fixedClock : 0 };
}

// ---- Python sandboxes: run, repl and the servers ----

export interface SandboxFlags extends LimitFlags, GrantFlags {
  engine?: 'micropython' | 'cpython';
  allowNet: string[];
}

export function addSandboxFlags(command: Command): Command {
  command
    .addOption(new Option('--engine <name>', 'the interpreter (cpython is a preview)').choices(['micropython', 'cpython']).default(undefined))
    .option('--allow-net <host>', 'let requests reach HOST, HOST:PORT or *.DOMAIN (repeatable; default: no network)', collect, []);
  return addGrantFlags(addLimitFlags(command));
}

export function sandboxOptionsFrom(flags: SandboxFlags): SandboxOptions {
  takeBackSwallowed(flags);
  return {
    engine: flags.engine,
    limits: limitsFrom(flags),
    net: flags.allowNet.length ? { allow: flags.allowNet } : undefined,
    env: parseEnv(flags.env),
    seed: flags.seed,
    clock: clockFrom(flags),
    mounts: flags.mount.length ? flags.mount.map(parseMount) : undefined,
    fsQuota: flags.writeQuota === undefined ? undefined : { bytes: flags.writeQuota },
  };
}

// ---- the servers: mcp, serve, worker ----

export interface CapacityFlags {
  concurrency?: number;
  maxQueue?: number;
  maxSessions: number;
  sessionIdle: number;
}

export interface BindFlags {
  host: string;
  token?: string;
  maxBody: number;
}

export const portArg = flagValue(parsePort);

export function addConcurrencyFlag(command: Command, what: string): Command {
  return command.addOption(new Option('--concurrency <n>', `${what} at once, each on a worker thread (default: one per core)`).argParser(flagValue(parseCount)));
}

export function addCapacityFlags(command: Command): Command {
  return addConcurrencyFlag(command, 'runs')
    .addOption(new Option('--max-queue <n>', 'runs that may wait for a slot; past it requests are refused (default 4 x concurrency)').argParser(flagValue(parseCount)))
    .addOption(new Option('--max-sessions <n>', 'open sessions at most').argParser(flagValue(parseCount)).default(32))
    .addOption(new Option('--session-idle <duration>', 'close a session unused this long').argParser(flagValue(parseDuration)).default(600_000, '10m'));
}

export function addBindFlags(command: Command): Command {
  return command
    .option('--host <host>', 'address to listen on; other than loopback needs a token', DEFAULT_HOST)
    .option('--token <token>', 'require "Authorization: Bearer TOKEN" (default: $PYFENCE_TOKEN)')
    .addOption(new Option('--max-body <size>', 'largest request body').argParser(flagValue(parseSize)).default(1024 * 1024, '1MiB'));
}

export function capacityFrom(flags: CapacityFlags) {
  const concurrency = flags.concurrency ?? availableParallelism();
  return { concurrency, maxQueue: flags.maxQueue ?? 4 * concurrency, maxSessions: flags.maxSessions, idleMs: flags.sessionIdle };
}

export function tokenFrom(flags: BindFlags): string | undefined {
  return flags.token ?? (process.env.PYFENCE_TOKEN || undefined);
}

/** `--engines micropython,cpython`: the Python engines requests may choose, the default first. */
export interface EngineFlags {
  engines?: string[];
}

export function addEnginesFlag(command: Command, fallback: string): Command {
  return command.addOption(
    new Option('--engines <list>', `Python engines requests may choose (comma-separated, the default first; default: --engine, else ${fallback})`).argParser((text) =>
      text.split(',').map((s) => s.trim()).filter(Boolean),
    ),
  );
}
