// MicroPython's module compiled from the command line's first statement: the launcher
// (dist/bundle/cli.cjs) starts V8's background compile before it loads the command's code, so the
// two overlap, and module.ts takes the compile over when a sandbox first needs the module. The
// launcher and the command are separate bundles, each with its own copy of every module, so the
// compile is handed over on a global, keyed by the file it read: a compile is only used for that
// file, and only once.
import { readFileSync } from 'node:fs';

export interface EarlyCompile {
  /** What was compiled, as read. */
  bytes: Uint8Array<ArrayBuffer>;
  module: Promise<WebAssembly.Module>;
}

const HANDOVER = Symbol.for('pyfence.micropython.early-compile');
type Handover = Map<string, EarlyCompile>;
const handover = (): Handover => ((globalThis as { [HANDOVER]?: Handover })[HANDOVER] ??= new Map());

/** Starts compiling the module at `path`; a file that cannot be read is left for module.ts to report. */
export function startEarlyCompile(path: string): void {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    const read = readFileSync(path); // a file this size gets an ArrayBuffer of its own: viewed, not copied
    bytes = new Uint8Array(read.buffer as ArrayBuffer, read.byteOffset, read.byteLength);
  } catch {
    return;
  }
  const module = WebAssembly.compile(bytes);
  module.catch(() => {}); // not taken, or taken later: module.ts reports a failure as its own compile would
  handover().set(path, { bytes, module });
}

/** The compile started for `path`, if any (given once). */
export function takeEarlyCompile(path: string): EarlyCompile | undefined {
  const early = handover().get(path);
  handover().delete(path);
  return early;
}
