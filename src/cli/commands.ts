// The `pyfence` command's subcommands: main.ts builds only the named one's parser, and the launcher
// keeps a code cache entry per subcommand (each holds the code its runs compiled).
export const COMMANDS = ['run', 'repl', 'mcp', 'serve', 'worker', 'wasm'];

/** The subcommand `argv` (process.argv) names, or null (help, version, a mistyped command). */
export function commandOf(argv: string[]): string | null {
  return COMMANDS.includes(argv[2]) ? argv[2] : null;
}
