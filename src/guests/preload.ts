// An engine's WebAssembly compiled ahead, by V8's background threads: the command line starts it
// before it loads the sandbox's code, so the compile overlaps that loading (pyfence run -c pass
// starts ~50 ms sooner), and Sandbox.create awaits it instead of compiling on its host's thread.
// Kept apart from the registry on purpose: importing this loads no engine's code.
import type { Engine } from '../capabilities/resolved-options.js';
import type { ModuleVariant } from '../engine/abi.js';
import { compileSandboxModule } from './micropython/module.js';

const COMPILE: Record<Engine, ((variant: ModuleVariant) => Promise<unknown>) | null> = {
  micropython: compileSandboxModule,
  // CPython's module is edited, then compiled, by its template on first use (cpython/module.ts).
  cpython: null,
};

/** Resolves once the engine's module is compiled (at once for an engine without an early compile). */
export async function compileEngine(engine: Engine, variant: ModuleVariant = 'metered'): Promise<void> {
  await COMPILE[engine]?.(variant);
}
