#!/usr/bin/env node
// The `pyfence` command. Exit codes are the contract in EXIT_CODES; usage errors exit 2.
import './wasm-tiering.js'; // first: before any module is compiled
import { Command, CommanderError } from 'commander';
import { MissingPackageError } from '../engine/optional-package.js';
import { compileEngine } from '../guests/preload.js';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import { commandOf } from './commands.js';
import { exitCodeHelp } from './exit-status.js';
import { brokenPipe, madeStdio, whenStdioMade } from './stdio.js';
import { addSandboxFlags, sandboxOptionsFrom, takeBackSwallowed, VERSION, type SandboxFlags } from './flags.js';
import { addServerCommands } from './server-commands.js';
import { addWasmCommand } from './wasm-command.js';

interface RunFlags extends SandboxFlags {
  code?: string;
  json: boolean;
}

interface ReplFlags extends SandboxFlags {
  load?: string;
  save?: string;
  history: boolean;
}

const EXIT_HELP = exitCodeHelp();

/**
 * The command line's parser. `only`: the command the line names, the only one given its options
 * (a few hundred, each parsed by commander when added); null (help, version, a mistyped command)
 * gives every command all of its options, as help shows them.
 */
function buildProgram(onExit: (code: number) => void, only: string | null): Command {
  const wanted = (command: string) => only === null || only === command;
  const program = new Command('pyfence')
    .enablePositionalOptions()
    .description('Run untrusted Python in a WebAssembly sandbox: no files, network or host access unless granted.')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`pyfence: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError('(run pyfence --help for usage)');

  if (wanted('run')) addRunCommand(program, onExit);
  if (wanted('repl')) addReplCommand(program, onExit);
  addServerCommands(program, onExit, EXIT_HELP, wanted);
  if (wanted('wasm')) addWasmCommand(program, onExit);
  program.addHelpText('after', EXIT_HELP);
  return program;
}

function addRunCommand(program: Command, onExit: (code: number) => void): void {
  const run = program
    .command('run')
    .description('run a Python program in a fresh sandbox')
    .argument('[file]', 'program file, or - to read it from stdin')
    .argument('[args...]', "the program's sys.argv[1:]")
    .passThroughOptions()
    .option('-c, --code <code>', 'program text')
    .option('--json', 'print exactly one JSON result object on stdout', false);
  addSandboxFlags(run)
    .addHelpText('after', EXIT_HELP)
    .action(async (file: string | undefined, args: string[], opts: RunFlags) => {
      ({ file, args } = takeBackSwallowed(opts, { file, args })!);
      const { runCommand } = await withEngineCompiling(opts, () => import('./run-command.js')); // each command loads only what it runs
      onExit(await runCommand({ file, args, code: opts.code, json: opts.json, options: sandboxOptionsFrom(opts) }));
    });
}

function addReplCommand(program: Command, onExit: (code: number) => void): void {
  const repl = program
    .command('repl')
    .description('an interactive session in one sandbox (Tab completes, Ctrl-C interrupts the running input, Ctrl-D exits)')
    .option('--load <file>', 'continue a session saved with --save')
    .option('--save <file>', 'save the session to FILE on exit')
    .option('--no-history', 'keep no history across runs (default: $PYFENCE_HISTORY, else ~/.pyfence_history)');
  addSandboxFlags(repl)
    .addHelpText('after', EXIT_HELP)
    .action(async (opts: ReplFlags) => {
      const { replCommand } = await withEngineCompiling(opts, () => import('./repl.js'));
      onExit(await replCommand({ load: opts.load, save: opts.save, history: opts.history, options: sandboxOptionsFrom(opts) }));
    });
}

/**
 * A command's code, loaded while V8's background threads compile the engine's module (started
 * first: src/guests/preload.ts), which the sandbox then finds compiled. A failed compile is left
 * for the sandbox to report, as it was before.
 */
async function withEngineCompiling<T>(flags: SandboxFlags, load: () => Promise<T>): Promise<T> {
  const compiled = compileEngine(flags.engine ?? 'micropython').catch(() => {});
  const [loaded] = await Promise.all([load(), compiled]);
  return loaded;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT_CODES.ok;
  const program = buildProgram((code) => (exitCode = code), commandOf(argv));
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // An explicit --help is success; help shown because the command was missing is a usage error.
      const helpShown = e.code === 'commander.helpDisplayed' || e.code === 'commander.version';
      return helpShown ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    if (e instanceof UsageError || e instanceof MissingPackageError) {
      process.stderr.write(`pyfence: ${e.message}\n`);
      return EXIT_CODES.usage;
    }
    throw e;
  }
  return exitCode;
}

// A reader that stops early (`pyfence run prog.py | head`) closes our stdout: stop quietly, as the
// shell's own tools do, rather than crash with an unhandled EPIPE.
whenStdioMade((stream) =>
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    brokenPipe();
  }),
);

/**
 * Ends the process as soon as the command is done and its output is written. Waiting for the event
 * loop to drain instead would also wait for V8's background work on the guest's wasm (optimising
 * compiles of functions the run made hot), which a finished command never uses: 100-300 ms.
 */
async function exitWith(code: number): Promise<never> {
  const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.destroyed || stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
  await Promise.all(madeStdio().map(flushed)); // a stream never made has nothing to flush
  process.exit(code);
}

main(process.argv).then(exitWith, (e) => {
  process.stderr.write(`pyfence: internal error: ${(e as Error).stack ?? e}\n`);
  return exitWith(EXIT_CODES.fault);
});
