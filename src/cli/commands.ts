// The `pyfence` command's subcommands: main.ts builds only the named one's parser, and the launcher
// keeps a code cache entry per subcommand (each holds the code its runs compiled).
export const COMMANDS = ['run', 'repl', 'mcp', 'serve', 'worker', 'wasm'];

/** The subcommand `argv` (process.argv) names, or null (help, version, a mistyped command). */
export function commandOf(argv: string[]): string | null {
  return COMMANDS.includes(argv[2]) ? argv[2] : null;
}

/**
 * Whether the command line runs MicroPython (`run` or `repl` without `--engine cpython`): the
 * launcher then starts compiling its module before the command's code loads. A guess from the
 * words alone; a wrong one costs a compile or saves none.
 */
export function runsMicroPython(argv: string[]): boolean {
  const command = commandOf(argv);
  return (command === 'run' || command === 'repl') && (engineOf(argv.slice(3)) ?? 'micropython') === 'micropython';
}

/** The engine `--engine NAME` or `--engine=NAME` names among `words`, if any. */
function engineOf(words: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--engine') return words[i + 1];
    if (words[i].startsWith('--engine=')) return words[i].slice('--engine='.length);
  }
  return undefined;
}
