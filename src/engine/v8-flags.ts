// V8's flags, set for this process (the command's own, CPython's compile threads) without loading
// node:v8: that module loads node:stream and the heap utilities with it (~3-5 ms of a cached
// `pyfence wasm` run, which loads neither otherwise). process.binding('v8') holds the very setter
// node:v8 calls. Reaching it is deprecated (DEP0111): Node warns on the first access, which is
// silenced for this one access (a later one by anyone would not warn either). Where the binding or
// its setter is gone: node:v8.
import { createRequire } from 'node:module';

type Setter = (flags: string) => void;
let setter: Setter | undefined;

function findSetter(): Setter {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    const binding = (process as unknown as { binding?: (name: string) => { setFlagsFromString?: Setter } }).binding?.('v8');
    if (typeof binding?.setFlagsFromString === 'function') return binding.setFlagsFromString;
  } catch {
    // gone in this Node
  } finally {
    process.noDeprecation = quiet;
  }
  return (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString;
}

export function setV8Flags(flags: string): void {
  (setter ??= findSetter())(flags);
}
