// The command's stdout and stderr. Node makes process.stdout and process.stderr on first use (they
// are getters), which for a pipe loads node:net and for a terminal node:tty. A run that prints
// nothing, like `pyfence run -c pass`, makes neither (handling their errors and flushing them at
// exit had made both every time); and what a command prints to a pipe, a socket or a file is
// written to its descriptor directly (writeOut), as Node's own stream for a file does, so a run
// that prints to a pipe does not load node:net either. A terminal keeps Node's stream.
import { fstatSync, writeSync } from 'node:fs';
import { EXIT_CODES } from '../core/errors.js';

type StdioName = 'stdout' | 'stderr';
const NAMES: StdioName[] = ['stdout', 'stderr'];
const made = new Map<StdioName, NodeJS.WriteStream>();
const listeners: ((stream: NodeJS.WriteStream) => void)[] = [];

function noteMade(name: StdioName, stream: NodeJS.WriteStream): void {
  if (made.has(name)) return;
  made.set(name, stream);
  for (const use of listeners) use(stream);
}

for (const name of NAMES) {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const make = own?.get;
  if (!own || !make || !own.configurable) {
    noteMade(name, process[name]); // not Node's lazy getter (a test runner's stand-in): made already
    continue;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      Object.defineProperty(process, name, own); // Node's getter again: it keeps the stream it made
      const stream = make.call(process) as NodeJS.WriteStream;
      noteMade(name, stream);
      return stream;
    },
  });
}

/** Runs `use` on each of stdout and stderr when it is made (at once for one made already). */
export function whenStdioMade(use: (stream: NodeJS.WriteStream) => void): void {
  listeners.push(use);
  for (const stream of made.values()) use(stream);
}

/** The streams made so far. */
export function madeStdio(): NodeJS.WriteStream[] {
  return [...made.values()];
}

/** A reader that stopped early (`pyfence run prog.py | head`): stop quietly, as the shell's own tools do. */
export function brokenPipe(): never {
  process.exit(EXIT_CODES.ok);
}

/** Per descriptor: written directly (a pipe, a socket such as a parent's spawn pipe, or a file), or through Node's stream. */
const direct = new Map<1 | 2, boolean>();

function writesDirectly(fd: 1 | 2): boolean {
  let yes = direct.get(fd);
  if (yes === undefined) {
    try {
      const st = fstatSync(fd);
      yes = st.isFIFO() || st.isSocket() || st.isFile();
    } catch {
      yes = false; // closed or odd: Node's stream reports it as it always did
    }
    direct.set(fd, yes);
  }
  return yes && !made.has(fd === 1 ? 'stdout' : 'stderr');
}

/**
 * Writes to stdout (1) or stderr (2): to the descriptor itself while it is a pipe, socket or file and
 * Node's stream for it is not made, else through that stream. A pipe someone else left
 * non-blocking that is full (EAGAIN) hands the rest to the stream, which waits for the reader;
 * everything after goes through the stream too, so the order of what is written holds.
 */
export function writeOut(fd: 1 | 2, data: string | Uint8Array): void {
  const name = fd === 1 ? 'stdout' : 'stderr';
  if (!writesDirectly(fd)) {
    process[name].write(data);
    return;
  }
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') brokenPipe();
    if (code !== 'EAGAIN') throw e;
    direct.set(fd, false);
    process[name].write(bytes.subarray(done));
  }
}
