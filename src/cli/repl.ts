// `pyfence repl`: an interactive session in one worker sandbox, as python3's REPL: Ctrl-C interrupts
// the running input with KeyboardInterrupt (or drops the line being typed) and the session goes on;
// Tab completes names and attributes from the session; history is kept across runs; Ctrl-D ends it
// (saving it with --save).
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface, type Completer } from 'node:readline';
import { EXIT_CODES, UsageError } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import type { RunResult } from '../guests/python-common/result.js';
import { Sandbox } from '../api/sandbox.js';
import { pythonEngine } from '../guests/registry.js';
import { needsMoreInput } from './repl-input.js';
import { historyFile, loadHistory, saveHistory } from './repl-history.js';
import { isSystemExit, pythonExitStatus } from './exit-status.js';
import { reportError } from './run-command.js';
import { withoutWrapperFrame } from '../guests/python-common/traceback.js';

export interface ReplInput {
  load?: string;
  save?: string;
  /** False with --no-history. */
  history: boolean;
  options: SandboxOptions;
}

const COMPLETE_PY = readFileSync(new URL('./guest/complete.py', import.meta.url), 'utf8');

/** Runs on the sandbox one at a time: a Tab pressed while a typed-ahead input waits must not overlap it. */
type Exclusive = <T>(work: () => Promise<T>) => Promise<T>;

function oneAtATime(): Exclusive {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>) => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };
}

/**
 * Tab: names and attributes from the session (guest/complete.py, run in the sandbox); on a blank
 * line, an indent, as python3 does. Pressed while an input runs, it completes once that input ends.
 */
function sessionCompleter(sandbox: Sandbox, exclusive: Exclusive): Completer {
  return ((line: string, callback: (err: Error | null, result: [string[], string]) => void) => {
    if (line.trim() === '') return callback(null, [['    '], '']);
    const text = /[A-Za-z_][\w.]*$/.exec(line)?.[0] ?? '';
    if (text === '') return callback(null, [[], text]);
    // After the current tick: an input entered just before the Tab (typed ahead) is queued first.
    setImmediate(() =>
      exclusive(() => sandbox.run(COMPLETE_PY, { inputs: { pyfence_tab_text: text } })).then(
        (r) => callback(null, [r.ok ? r.stdout.split('\n').filter(Boolean) : [], text]),
        () => callback(null, [[], text]),
      ),
    );
  }) as unknown as Completer;
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

/** Ctrl-C while typing: the line typed so far is dropped, as python3 does (readline keeps it otherwise). */
function dropTypedLine(rl: ReturnType<typeof createInterface>): void {
  rl.write(null, { ctrl: true, name: 'e' });
  rl.write(null, { ctrl: true, name: 'u' });
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
  let running = false;
  const exclusive = oneAtATime();
  const history = tty && input.history ? historyFile() : undefined;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: tty,
    historySize: 1000,
    history: history ? loadHistory(history) : [],
    completer: tty ? sessionCompleter(sandbox, exclusive) : undefined,
  });
  if (history) rl.on('history', (lines: string[]) => saveHistory(history, lines));
  const prompt = (more: boolean) => {
    if (!tty) return;
    rl.setPrompt(more ? '... ' : '>>> ');
    rl.prompt(true); // keep the cursor where typed-ahead text left it
  };
  let lines: string[] = [];
  // A Ctrl-C that reaches a run as it ends would be lost (each run starts with the interrupt
  // cleared): it is kept, and the next input raises KeyboardInterrupt instead of running, as python3
  // takes its signal flag at the next statement.
  let interruptSent = false;
  let interruptPending = false;
  const onInterrupt = () => {
    if (running) {
      interruptSent = true;
      return sandbox.interrupt();
    }
    lines = [];
    if (tty) dropTypedLine(rl);
    process.stdout.write('\nKeyboardInterrupt\n');
    prompt(false);
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt); // piped stdin: the signal itself

  /** Runs one input; a SystemExit ends the session with its status, as in python3's REPL. */
  let exitCode: number | null = null;
  const execute = async (src: string) => {
    if (!src.trim()) return;
    if (interruptPending) {
      interruptPending = false;
      process.stderr.write('KeyboardInterrupt\n');
      return;
    }
    running = true;
    interruptSent = false;
    const result = await exclusive(() =>
      sandbox.run(engine.interactive(src), {
        onStdout: (text) => process.stdout.write(text),
        onStderr: (text) => process.stderr.write(text),
      }),
    );
    running = false;
    if (interruptSent && result.error?.type !== 'KeyboardInterrupt') interruptPending = true;
    if (result.ok) return;
    const status = pythonExitStatus(result.error);
    reportError(withoutWrapper(result), status, engine.printsExitMessage);
    if (isSystemExit(result.error)) exitCode = status.code;
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
    if (exitCode !== null) break;
    prompt(false);
  }
  if (lines.length && exitCode === null) await execute(lines.join('\n'));
  rl.close();
  process.off('SIGINT', onInterrupt);
  try {
    if (input.save !== undefined) writeFileSync(input.save, await sandbox.snapshot());
  } catch (e) {
    process.stderr.write(`pyfence: cannot save the session to ${input.save}: ${(e as Error).message}\n`);
    return EXIT_CODES.usage;
  } finally {
    sandbox.dispose();
  }
  if (tty && exitCode === null) process.stdout.write('\n');
  return exitCode ?? EXIT_CODES.ok;
}
