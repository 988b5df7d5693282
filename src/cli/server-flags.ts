// Flags the long-running commands share (mcp, serve, worker): how much work at once, and how to bind.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULT_HOST } from '../servers/core/bind.js';
import { parseDuration, parseSize } from './units.js';

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

/** Adapts a value parser to commander, which reports InvalidArgumentError as a usage error. */
export function arg(parse: (text: string) => number): (text: string) => number {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

export function positiveInt(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new Error(`expected a positive integer, got "${text}"`);
  return Number(text);
}

export function port(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new Error(`expected a port from 0 to 65535, got "${text}"`);
  return Number(text);
}

export const portArg = arg(port);

export function addCapacityFlags(command: Command): Command {
  return command
    .addOption(new Option('--concurrency <n>', 'runs at once, each on a worker thread (default: one per core)').argParser(arg(positiveInt)))
    .addOption(new Option('--max-queue <n>', 'runs that may wait for a slot; past it requests are refused (default 4 x concurrency)').argParser(arg(positiveInt)))
    .addOption(new Option('--max-sessions <n>', 'open sessions at most').argParser(arg(positiveInt)).default(32))
    .addOption(new Option('--session-idle <duration>', 'close a session unused this long').argParser(arg(parseDuration)).default(600_000, '10m'));
}

export function addBindFlags(command: Command): Command {
  return command
    .option('--host <host>', 'address to listen on; other than loopback needs a token', DEFAULT_HOST)
    .option('--token <token>', 'require "Authorization: Bearer TOKEN" (default: $PYFENCE_TOKEN)')
    .addOption(new Option('--max-body <size>', 'largest request body').argParser(arg(parseSize)).default(1024 * 1024, '1MiB'));
}

export function capacityFrom(flags: CapacityFlags) {
  const concurrency = flags.concurrency ?? availableParallelism();
  return { concurrency, maxQueue: flags.maxQueue ?? 4 * concurrency, maxSessions: flags.maxSessions, idleMs: flags.sessionIdle };
}

export function tokenFrom(flags: BindFlags): string | undefined {
  return flags.token ?? (process.env.PYFENCE_TOKEN || undefined);
}

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** Resolves on the first SIGINT or SIGTERM. */
export function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
