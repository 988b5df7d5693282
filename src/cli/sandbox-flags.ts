// The flags that configure a sandbox (limits and grants), shared by `run` and `repl`.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { MountOptions } from '../vfs/vfs.js';
import { parseCount, parseDuration, parseSize } from './units.js';

export interface SandboxFlags {
  engine?: 'micropython' | 'cpython';
  fuel?: number;
  timeout?: number;
  memory?: number;
  maxOutput?: number;
  allowNet: string[];
  env: string[];
  seed?: number;
  fixedClock?: number | true;
  mount: string[];
  writeQuota?: number;
}

/** HOST:GUEST[:ro|:rw] (the host path may itself contain ':' only before the guest part). */
export function parseMount(spec: string): MountOptions {
  const m = /^(.+):(\/[^:]*)(?::(ro|rw))?$/.exec(spec);
  if (!m) throw new UsageError(`--mount takes HOST:GUEST[:ro|:rw] with an absolute GUEST path, got "${spec}"`);
  return { host: m[1], guest: m[2], mode: (m[3] as 'ro' | 'rw' | undefined) ?? 'ro' };
}

/** Adapts a value parser to commander, which reports InvalidArgumentError as a usage error. */
export function flagValue(parse: (text: string) => number): (text: string) => number {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

export const collect = (value: string, previous: string[]) => [...previous, value];

export function parseInteger(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`expected a non-negative integer, got "${text}"`);
  return Number(text);
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

export function addSandboxFlags(command: Command): Command {
  return command
    .addOption(new Option('--engine <name>', 'the interpreter (cpython is a preview)').choices(['micropython', 'cpython']).default(undefined))
    .addOption(
      new Option('--fuel <units>', `CPU budget in fuel units (default ${DEFAULT_LIMITS.fuel.toExponential()}, a few seconds of CPU)`).argParser(
        flagValue(parseCount),
      ),
    )
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
    .addOption(
      new Option('--max-output <size>', `cap on stdout+stderr (default ${DEFAULT_LIMITS.outputBytes / 2 ** 10}KiB)`).argParser(
        flagValue(parseSize),
      ),
    )
    .option('--allow-net <host>', 'let requests reach HOST, HOST:PORT or *.DOMAIN (repeatable; default: no network)', collect, [])
    .option('--env <name=value>', 'set an environment variable for os.getenv (repeatable; default: none)', collect, [])
    .option('--mount <host:guest[:ro|:rw]>', 'show a host directory in the sandbox (repeatable; default read-only)', collect, [])
    .addOption(new Option('--write-quota <size>', 'bytes the sandbox may write to rw mounts and in-memory files (default 64MiB)').argParser(flagValue(parseSize)))
    .addOption(new Option('--seed <n>', 'seed for random (reproducible runs)').argParser(flagValue(parseInteger)))
    .addOption(
      new Option('--fixed-clock [ms]', 'deterministic time: start at MS since the epoch (default 0), advance with fuel').argParser(
        flagValue(parseInteger),
      ),
    );
}

export function sandboxOptionsFrom(flags: SandboxFlags): SandboxOptions {
  return {
    engine: flags.engine,
    limits: { fuel: flags.fuel, timeoutMs: flags.timeout, memoryBytes: flags.memory, outputBytes: flags.maxOutput },
    net: flags.allowNet.length ? { allow: flags.allowNet } : undefined,
    env: parseEnv(flags.env),
    seed: flags.seed,
    clock: flags.fixedClock === undefined ? undefined : { fixedMs: flags.fixedClock === true ? 0 : flags.fixedClock },
    mounts: flags.mount.length ? flags.mount.map(parseMount) : undefined,
    fsQuota: flags.writeQuota === undefined ? undefined : { bytes: flags.writeQuota },
  };
}
