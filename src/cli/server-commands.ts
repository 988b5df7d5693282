// Registers the long-running commands: `mcp`, `serve` and `worker`. Each one's grants come from the
// same sandbox flags as `run`; requests can never add to them. The servers' libraries load only when
// their command runs, so `pyfence run` starts as fast as before.
import { Option, type Command } from 'commander';
import { DEFAULT_QUEUE } from '../servers/queue/names.js';
import type { McpFlags } from './mcp-command.js';
import { DEFAULT_MCP_ENGINE } from '../servers/core/engines.js';
import { addBindFlags, addCapacityFlags, addConcurrencyFlag, addEnginesFlag, addSandboxFlags, flagValue, portArg, sandboxOptionsFrom, type SandboxFlags } from './flags.js';
import type { ServeFlags } from './serve-command.js';
import { parseDuration, parseSize } from './units.js';
import type { WorkerFlags } from './worker-command.js';

export function addServerCommands(program: Command, onExit: (code: number) => void, helpText: string, wanted: (command: string) => boolean): void {
  if (wanted('mcp')) addMcp(program, onExit, helpText);
  if (wanted('serve')) addServe(program, onExit, helpText);
  if (wanted('worker')) addWorker(program, onExit, helpText);
}

function addMcp(program: Command, onExit: (code: number) => void, helpText: string): void {
  const mcp = program
    .command('mcp')
    .description('an MCP server with run_python, run_wasm and session tools, over stdio (default) or streamable HTTP')
    .addOption(new Option('--http <port>', 'serve streamable HTTP on PORT (path /mcp) instead of stdio').argParser(portArg))
    .addOption(new Option('--result-budget <size>', 'largest tool result text (and structuredContent): long output keeps its head and tail').argParser(flagValue(parseSize)).default(24 * 1024, '24KiB'));
  addSandboxFlags(addEnginesFlag(addBindFlags(addCapacityFlags(mcp)), DEFAULT_MCP_ENGINE))
    .addHelpText('after', helpText)
    .action(async (opts: McpFlags & SandboxFlags) => onExit(await (await import('./mcp-command.js')).mcpCommand(opts, sandboxOptionsFrom(opts))));
}

function addServe(program: Command, onExit: (code: number) => void, helpText: string): void {
  const serve = program
    .command('serve')
    .description('an HTTP API: POST /v1/run, sessions, /openapi.json (bearer token required off loopback)')
    .requiredOption('--port <port>', 'port to listen on (0: any free port)', portArg);
  addSandboxFlags(addEnginesFlag(addBindFlags(addCapacityFlags(serve)), 'micropython'))
    .addHelpText('after', helpText)
    .action(async (opts: ServeFlags & SandboxFlags) => onExit(await (await import('./serve-command.js')).serveCommand(opts, sandboxOptionsFrom(opts))));
}

function addWorker(program: Command, onExit: (code: number) => void, helpText: string): void {
  const worker = program
    .command('worker')
    .description('run jobs from a BullMQ queue on Redis (job "run": {code, engine?} or {wat | wasm_base64, args?, stdin?}, with limits?, files?; "session-run": {session, code, limits?})')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .addOption(
      new Option('--stall-timeout <duration>', "a job whose worker stops answering this long goes to another worker").argParser(flagValue(parseDuration)).default(30_000, '30s'),
    );
  addSandboxFlags(addEnginesFlag(addConcurrencyFlag(worker, 'jobs'), 'micropython'))
    .addHelpText('after', helpText)
    .action(async (opts: WorkerFlags & SandboxFlags) => onExit(await (await import('./worker-command.js')).workerCommand(opts, sandboxOptionsFrom(opts))));
}
