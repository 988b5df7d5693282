// `pyfence repl`: an interactive session in one worker sandbox. Ctrl-C interrupts the running input
// with KeyboardInterrupt and the session goes on; Ctrl-D ends it (saving it with --save).
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import type { RunResult } from '../guests/python-common/result.js';
import { Sandbox } from '../api/sandbox.js';
import { needsMoreInput } from './repl-input.js';
import { reportError } from './run-command.js';
import { withoutWrapperFrame } from '../guests/python-common/traceback.js';
import { pythonEngine } from '../guests/registry.js';

export interface ReplInput {
  load?: string;
  save?: string;
  options: SandboxOptions;
}

async function openSandbox(input: ReplInput): Promise<Sandbox> {
  const options: SandboxOptions = { ...input.options, isolation: 'worker', argv: [''] };
  if (input.load === undefined) return Sandbox.create(options);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(input.load));
  } catch (e) {
    throw new UsageError(`cannot read ${input.load}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return await Sandbox.restore(bytes, options);
  } catch (e) {
    throw new UsageError(`cannot load ${input.load}: ${(e as Error).message}`);
  }
}

function withoutWrapper(result: RunResult): RunResult {
  const tb = result.error?.traceback;
  if (!tb) return result;
  return Object.assign(Object.create(Object.getPrototypeOf(result)), result, { error: { ...result.error!, traceback: withoutWrapperFrame(tb) } });
}

export async function replCommand(input: ReplInput): Promise<number> {
  const sandbox = await openSandbox(input);
  const engine = pythonEngine(input.options.engine ?? 'micropython');
  if (input.save !== undefined) {
    // Before anything is typed: a session that cannot be saved says so now, not after the work.
    try {
      await sandbox.snapshot();
    } catch (e) {
      sandbox.dispose();
      throw new UsageError(`cannot save the session: ${(e as Error).message}`);
    }
  }
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty, historySize: 1000 });
  const prompt = (more: boolean) => {
    if (!tty) return;
    rl.setPrompt(more ? '... ' : '>>> ');
    rl.prompt();
  };
  let running = false;
  let lines: string[] = [];
  const onInterrupt = () => {
    if (running) return sandbox.interrupt();
    lines = [];
    process.stdout.write('\nKeyboardInterrupt\n');
    prompt(false);
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt); // piped stdin: the signal itself

  const execute = async (src: string) => {
    if (!src.trim()) return;
    running = true;
    const result = await sandbox.run(engine.interactive(src), {
      onStdout: (text) => process.stdout.write(text),
      onStderr: (text) => process.stderr.write(text),
    });
    running = false;
    if (!result.ok) reportError(withoutWrapper(result));
  };

  if (tty) process.stdout.write(`pyfence REPL (${engine.label} in a sandbox). Ctrl-C interrupts, Ctrl-D exits.\n`);
  prompt(false);
  for await (const line of rl) {
    lines.push(line);
    if (needsMoreInput(lines)) {
      prompt(true);
      continue;
    }
    const src = lines.join('\n');
    lines = [];
    await execute(src);
    prompt(false);
  }
  if (lines.length) await execute(lines.join('\n'));
  process.off('SIGINT', onInterrupt);
  try {
    if (input.save !== undefined) writeFileSync(input.save, await sandbox.snapshot());
  } catch (e) {
    process.stderr.write(`pyfence: cannot save the session to ${input.save}: ${(e as Error).message}\n`);
    return EXIT_CODES.usage;
  } finally {
    sandbox.dispose();
  }
  if (tty) process.stdout.write('\n');
  return EXIT_CODES.ok;
}
