// `pyfence run`: run one program in a fresh sandbox and report it as text or as one JSON object.
import { readFileSync } from 'node:fs';
import { Sandbox } from '../api/sandbox.js';
import { pythonEngine } from '../guests/registry.js';
import { UsageError } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import type { RunResult } from '../guests/python-common/result.js';
import { isSystemExit, pythonExitStatus, type ExitStatus } from './exit-status.js';
import { writeOut } from './stdio.js';

export interface RunCommandInput {
  file?: string;
  /** The program's arguments (sys.argv[1:]). */
  args: string[];
  code?: string;
  json: boolean;
  options: SandboxOptions;
}

/** The program's text and the name it has in tracebacks and sys.argv[0]. */
export function readProgram(input: RunCommandInput): { code: string; name: string } {
  if (input.code !== undefined && input.file !== undefined) {
    throw new UsageError('give either FILE or -c CODE, not both (arguments for -c go after --)');
  }
  if (input.code !== undefined) return { code: input.code, name: '<string>' };
  if (input.file === undefined) throw new UsageError('missing program: give FILE, -c CODE or - for stdin');
  const name = input.file === '-' ? '<stdin>' : input.file;
  try {
    return { code: readFileSync(input.file === '-' ? 0 : input.file, 'utf8'), name };
  } catch (e) {
    throw new UsageError(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function guestPrintsExitMessage(options: SandboxOptions): boolean {
  return pythonEngine(options.engine ?? 'micropython').printsExitMessage;
}

export async function runCommand(input: RunCommandInput): Promise<number> {
  const { code, name } = readProgram(input);
  const sandbox = await Sandbox.create({ ...input.options, argv: [name, ...input.args] });
  const stream = !input.json;
  const result = await sandbox.run(code, {
    filename: name,
    onStdout: stream ? (text) => writeOut(1, text) : undefined,
    onStderr: stream ? (text) => writeOut(2, text) : undefined,
  });
  // Not disposed: the process ends with this command (main.ts), and disposing would zero the
  // guest's memory for a reuse that never comes.
  const status = pythonExitStatus(result.error);
  if (input.json) {
    writeOut(1, JSON.stringify({ ...result.toJSON(), exitCode: status.code, stop: status.stop }) + '\n');
  } else {
    reportError(result, status, guestPrintsExitMessage(input.options));
  }
  return status.code;
}

/** Stops by a limit: their traceback is the KeyboardInterrupt that carried the stop, not the program's. */
const LIMIT_KINDS = new Set(['fuel', 'timeout', 'output']);

/**
 * A failed run on stderr: a program's own exit prints only `sys.exit("msg")`'s message (as python3),
 * a limit its one-line reason, else the traceback if there is one, else the fault.
 */
export function reportError(result: RunResult, status: ExitStatus, messagePrinted: boolean): void {
  const error = result.error;
  if (!error) return;
  if (isSystemExit(error)) {
    if (status.message !== undefined && !messagePrinted) writeOut(2, `${status.message}\n`);
    return;
  }
  if (error.traceback && !LIMIT_KINDS.has(error.kind)) writeOut(2, error.traceback);
  else writeOut(2, `pyfence: ${error.kind}: ${error.message}\n`);
}
