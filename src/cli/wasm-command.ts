// `pyfence wasm`: run a WASI command (or call an export of any module) in the fence.
//   pyfence wasm [--mount HOST:GUEST[:ro|:rw]]... [--write-quota SIZE] [--env K=V]... [--fuel N]
//     [--timeout T] [--memory SIZE] [--max-output SIZE] [--seed N] [--fixed-clock [MS]]
//     [--allow-import MOD.NAME]... [--invoke NAME] [--json] FILE.wasm|FILE.wat [ARGS...]
// Without --json the guest's output streams through and the exit status is the program's own; a
// pyfence stop prints one line on stderr and exits with its code in EXIT_CODES.
import { basename } from 'node:path';
import type { Command } from 'commander';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import type { WasmModule } from '../api/wasm-module.js';
import type { HostFunction, WasmRunOptions } from '../guests/wasi/options.js';
import type { WasmRunResult } from '../guests/wasi/result.js';
import type { ModuleMeta } from '../instrument/meter.js';
import { addGrantFlags, addLimitFlags, clockFrom, collect, limitsFrom, parseEnv, parseMount, takeBackSwallowed, type GrantFlags, type LimitFlags } from './flags.js';
import { exitCodeHelp } from './exit-status.js';
import { processStdin } from './stdin-reader.js';
import { pruneWasmCache, wasmCacheDir } from './wasm-cache.js';
import { writeOut } from './stdio.js';
import { keepLeanCodeCache } from './code-cache.js';

export interface WasmFlags extends LimitFlags, GrantFlags {
  allowImport: string[];
  invoke?: string;
  json: boolean;
  /** False with --no-cache. */
  cache: boolean;
}

/**
 * Imports granted on the command line have no host function behind them: each links to a stub
 * that returns zeros and records the call in the audit trail.
 */
function stubImports(names: string[], meta: ModuleMeta, calls: string[]): Record<string, HostFunction> {
  const out: Record<string, HostFunction> = {};
  for (const name of names) {
    if (!/^[^.]+\..+$/.test(name)) throw new UsageError(`--allow-import takes MODULE.NAME, got "${name}"`);
    const sig = meta.imports.find((i) => `${i.module}.${i.name}` === name);
    if (!sig) continue; // granting what the module does not import changes nothing
    const zero = sig.results[0] === 'i64' ? 0n : 0;
    out[name] = () => {
      calls.push(name);
      return sig.results.length ? zero : undefined;
    };
  }
  return out;
}

const CACHE_HELP = `

Instrumented modules are cached in $PYFENCE_WASM_CACHE, else $XDG_CACHE_HOME/pyfence/wasm, else
~/.cache/pyfence/wasm (at most 256 MiB, oldest dropped first; each entry checked before use).
PYFENCE_WASM_CACHE=off or --no-cache turns the cache off.`;

export function addWasmCommand(program: Command, onExit: (code: number) => void): void {
  const wasm = program
    .command('wasm')
    .description('run a WASI program, or call an export of any WebAssembly module, in the sandbox')
    .argument('[file]', 'module: FILE.wasm or FILE.wat')
    .argument('[args...]', "the program's arguments (with --invoke: the export's arguments)")
    .passThroughOptions();
  addGrantFlags(addLimitFlags(wasm))
    .option('--allow-import <module.name>', 'let the module import MODULE.NAME (a stub returning zeros; repeatable)', collect, [])
    .option('--invoke <name>', 'call this export with ARGS instead of running _start')
    .option('--json', 'print exactly one JSON result object on stdout', false)
    .option('--no-cache', 'instrument the module again rather than use (or fill) the disk cache')
    .addHelpText('after', exitCodeHelp('module') + CACHE_HELP)
    .action(async (file: string | undefined, args: string[], flags: WasmFlags) => {
      ({ file, args } = takeBackSwallowed(flags, { file, args })!);
      if (file === undefined) throw new UsageError('missing FILE.wasm or FILE.wat');
      onExit(await wasmCommand(file, args, flags));
    });
}

export async function wasmCommand(file: string, args: string[], flags: WasmFlags): Promise<number> {
  // Loaded when the command runs: `pyfence run` does not pay for the module guest.
  const { InvalidModuleError, WasmModule } = await import('../api/wasm-module.js');
  let module: WasmModule;
  try {
    const cacheDir = wasmCacheDir(flags.cache);
    module = await WasmModule.fromFile(file, { cacheDir });
    if (cacheDir && module.source === 'instrumented') {
      pruneWasmCache(cacheDir); // only a write makes the cache grow
      // The rewriter's code is not what a run of the cached module compiles (the CLI's code cache keeps it apart).
      keepLeanCodeCache();
    }
  } catch (e) {
    if (e instanceof InvalidModuleError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  const hostCalls: string[] = [];
  const stdin = processStdin();
  const stream = !flags.json;
  const options: WasmRunOptions = {
    args: [basename(file), ...args],
    env: parseEnv(flags.env),
    mounts: flags.mount.map(parseMount),
    limits: { ...limitsFrom(flags), writeQuotaBytes: flags.writeQuota },
    seed: flags.seed,
    clock: clockFrom(flags),
    imports: stubImports(flags.allowImport, module.meta, hostCalls),
    stdin: stdin.read,
    onStdout: stream ? (b) => writeOut(1, b) : undefined,
    onStderr: stream ? (b) => writeOut(2, b) : undefined,
  };
  const result = flags.invoke === undefined ? await module.run(options) : await module.invokeWith({ ...options, args: undefined }, flags.invoke, ...args);
  for (const name of hostCalls.slice(0, 16)) result.audit.events.push({ kind: 'host-call', detail: `${name} (stub)` });
  if (flags.json) {
    const json = { ...result, stop: result.error?.kind ?? null };
    writeOut(1, JSON.stringify(json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  } else {
    for (const value of result.result ?? []) writeOut(1, `${value}\n`);
    if (result.error) writeOut(2, `pyfence: ${result.error.kind}: ${result.error.message}\n`);
  }
  return exitStatus(result);
}

export function exitStatus(result: WasmRunResult): number {
  return result.error ? EXIT_CODES[result.error.kind] : result.exitCode;
}
