#!/usr/bin/env node
// The `pyfence` command as installed (the package's bin, dist/bundle/cli.cjs): runs the command's
// code (dist/bundle/cli-main.cjs, the bundle of main.ts) with a V8 code cache in the user's cache
// directory ($PYFENCE_CODE_CACHE, else $XDG_CACHE_HOME/pyfence/code, else ~/.cache/pyfence/code;
// PYFENCE_CODE_CACHE=off turns it off). See code-cache.ts.
import './wasm-tiering.js'; // first: V8's flags are part of a code cache's key, so set before compiling
import { fileURLToPath } from 'node:url';
import { userCacheDir } from './cache-dir.js';
import { commandOf, runsMicroPython } from './commands.js';
import { runCommonJs } from './code-cache.js';
import { compileCachedEarly } from './wasm-cache.js';
import { startEarlyCompile } from '../guests/micropython/early-compile.js';
import { sandboxModulePath } from '../guests/micropython/module.js';

/** The sha256 of cli-main.cjs, written here by build/bundle.mjs. */
declare const PYFENCE_CLI_BUILD: string;

// MicroPython's module (or, for `pyfence wasm`, the cached module) compiles on V8's background
// threads while this thread loads the command, whose code is read into the buffer the module was
// read into when the compile has no more need of it.
let scratch: Buffer | undefined;
if (runsMicroPython(process.argv)) scratch = startEarlyCompile(sandboxModulePath('metered'));
else if (commandOf(process.argv) === 'wasm') compileCachedEarly(process.argv);
// One entry per subcommand: an entry holds what its first run compiled, and a used entry is not
// written again, so `pyfence wasm` would otherwise keep the code of whichever command ran first.
const entry = `cli-${commandOf(process.argv) ?? 'other'}`;
runCommonJs(fileURLToPath(new URL('../bundle/cli-main.cjs', import.meta.url)), { build: PYFENCE_CLI_BUILD, entry }, userCacheDir('code', 'PYFENCE_CODE_CACHE'), scratch);
