// The command's stdout and stderr as Node makes them: on first use (process.stdout is a getter),
// which for a pipe loads node:net and for a terminal node:tty. A run that prints nothing, like
// `pyfence run -c pass`, then never makes them, where handling their errors and flushing them at
// exit made both every time.

type StdioName = 'stdout' | 'stderr';
const made: NodeJS.WriteStream[] = [];

/** Runs `use` on each of stdout and stderr when it is made (at once if it already is). */
export function whenStdioMade(use: (stream: NodeJS.WriteStream) => void): void {
  for (const name of ['stdout', 'stderr'] as StdioName[]) {
    const own = Object.getOwnPropertyDescriptor(process, name);
    const make = own?.get;
    if (!own || !make || !own.configurable) {
      made.push(process[name]);
      use(process[name]);
      continue;
    }
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: own.enumerable,
      get() {
        Object.defineProperty(process, name, own); // Node's getter again: it keeps the stream it made
        const stream = make.call(process) as NodeJS.WriteStream;
        made.push(stream);
        use(stream);
        return stream;
      },
    });
  }
}

/** The streams made so far. */
export function madeStdio(): readonly NodeJS.WriteStream[] {
  return made;
}
