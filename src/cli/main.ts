#!/usr/bin/env node
// The `pyfence` command. Exit codes are the contract in EXIT_CODES; usage errors exit 2.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_CODES, UsageError } from '../python/errors.js';
import { DEFAULT_LIMITS } from '../python/options.js';
import { runCommand } from './run-command.js';
import { parseCount, parseDuration, parseSize } from './units.js';

/** Adapts a value parser to commander, which reports InvalidArgumentError as a usage error. */
function flagValue(parse: (text: string) => number): (text: string) => number {
  return (text) => {
    try {
      return parse(text);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

interface RunFlags {
  code?: string;
  json: boolean;
  fuel?: number;
  timeout?: number;
  memory?: number;
  maxOutput?: number;
  allowNet: string[];
  env: string[];
  seed?: number;
  fixedClock?: number | true;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseEnv(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function parseInteger(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`expected a non-negative integer, got "${text}"`);
  return Number(text);
}

const EXIT_HELP = `
Exit codes:
  0  the program finished
  1  uncaught Python exception
  2  usage error (unknown flag, unreadable file, bad value)
  3  fuel exhausted
  4  timeout
  5  memory limit
  6  output limit
  7  denied by policy
  8  sandbox fault`;

function buildProgram(onExit: (code: number) => void): Command {
  const program = new Command('pyfence')
    .enablePositionalOptions()
    .description('Run untrusted Python in a WebAssembly sandbox: no files, network or host access unless granted.')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`pyfence: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError('(run pyfence --help for usage)');

  program
    .command('run')
    .description('run a Python program in a fresh sandbox')
    .argument('[file]', 'program file, or - to read it from stdin')
    .argument('[args...]', "the program's sys.argv[1:]")
    .passThroughOptions()
    .option('-c, --code <code>', 'program text')
    .option('--json', 'print exactly one JSON result object on stdout', false)
    .addOption(
      new Option('--fuel <units>', `CPU budget in fuel units (default ${DEFAULT_LIMITS.fuel.toExponential()}, a few seconds of CPU)`).argParser(
        flagValue(parseCount),
      ),
    )
    .addOption(
      new Option('--timeout <duration>', `wall-clock limit, e.g. 300ms or 2s (default ${DEFAULT_LIMITS.timeoutMs / 1000}s)`).argParser(
        flagValue(parseDuration),
      ),
    )
    .addOption(
      new Option('--memory <size>', `memory cap, e.g. 16MiB (default ${DEFAULT_LIMITS.memoryBytes / 2 ** 20}MiB)`).argParser(
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
    .addOption(new Option('--seed <n>', 'seed for random (reproducible runs)').argParser(flagValue(parseInteger)))
    .addOption(
      new Option('--fixed-clock [ms]', 'deterministic time: start at MS since the epoch (default 0), advance with fuel').argParser(
        flagValue(parseInteger),
      ),
    )
    .addHelpText('after', EXIT_HELP)
    .action(async (file: string | undefined, args: string[], opts: RunFlags) => {
      const code = await runCommand({
        file,
        args,
        code: opts.code,
        json: opts.json,
        limits: { fuel: opts.fuel, timeoutMs: opts.timeout, memoryBytes: opts.memory, outputBytes: opts.maxOutput },
        grants: {
          net: opts.allowNet.length ? { allow: opts.allowNet } : undefined,
          env: parseEnv(opts.env),
          seed: opts.seed,
          clock: opts.fixedClock === undefined ? undefined : { fixedMs: opts.fixedClock === true ? 0 : opts.fixedClock },
        },
      });
      onExit(code);
    });
  program.addHelpText('after', EXIT_HELP);
  return program;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT_CODES.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // An explicit --help is success; help shown because the command was missing is a usage error.
      const helpShown = e.code === 'commander.helpDisplayed' || e.code === 'commander.version';
      return helpShown ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`pyfence: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    throw e;
  }
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`pyfence: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = EXIT_CODES.fault;
  },
);
