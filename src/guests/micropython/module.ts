// The sandbox module is compiled once per process; every sandbox is a new instance of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULE_FILES, type ModuleVariant } from '../../engine/abi.js';

const WASM_DIR = new URL('../../../wasm/', import.meta.url);

export interface LoadedModule {
  module: WebAssembly.Module;
  /** sha256 of the module's bytes: what a snapshot is tied to. */
  sha256: string;
  /** What the build found in this module (wasm/manifest.json), e.g. its builtin-module table. */
  report: BuildReport;
}

export interface BuildReport {
  sha256: string;
  bake: { moduleTable: { name: string; keyAddress: number; key: number }[] };
}
const loaded = new Map<ModuleVariant, LoadedModule>();

export function sandboxModulePath(variant: ModuleVariant = 'metered'): string {
  return fileURLToPath(new URL(MODULE_FILES[variant], WASM_DIR));
}

function readModule(variant: ModuleVariant): Buffer {
  try {
    return readFileSync(sandboxModulePath(variant));
  } catch (e) {
    throw new Error(`pyfence: ${sandboxModulePath(variant)} is missing; run \`npm run build\` (${(e as Error).message})`);
  }
}

/** The module's hash and build report, checked against wasm/manifest.json. */
function checked(variant: ModuleVariant, bytes: Buffer): Omit<LoadedModule, 'module'> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const report = JSON.parse(readFileSync(new URL('manifest.json', WASM_DIR), 'utf8')).variants?.[variant] as BuildReport | undefined;
  if (report?.sha256 !== sha256) throw new Error(`pyfence: wasm/manifest.json does not describe ${MODULE_FILES[variant]}; run \`npm run build\``);
  return { sha256, report };
}

export function loadSandboxModule(variant: ModuleVariant = 'metered'): LoadedModule {
  let entry = loaded.get(variant);
  if (!entry) {
    const bytes = readModule(variant);
    entry = { ...checked(variant, bytes), module: new WebAssembly.Module(new Uint8Array(bytes)) };
    loaded.set(variant, entry);
  }
  return entry;
}

const compiling = new Map<ModuleVariant, Promise<LoadedModule>>();

/**
 * The same, compiled by V8's background threads (WebAssembly.compile) while this thread goes on:
 * a command line starts it before it loads the sandbox's code (src/guests/preload.ts), and a sandbox
 * awaits it rather than compile on the thread its host runs on.
 */
export function compileSandboxModule(variant: ModuleVariant = 'metered'): Promise<LoadedModule> {
  const done = loaded.get(variant);
  if (done) return Promise.resolve(done);
  let pending = compiling.get(variant);
  if (!pending) {
    pending = (async () => {
      const bytes = readModule(variant);
      const facts = checked(variant, bytes);
      const module = await WebAssembly.compile(new Uint8Array(bytes));
      // A synchronous load meanwhile (a Pool made in the same tick) compiled it first: use that one.
      const entry = loaded.get(variant) ?? { ...facts, module };
      loaded.set(variant, entry);
      return entry;
    })();
    compiling.set(variant, pending);
    pending.catch(() => compiling.delete(variant)); // a missing build may be made before the next try
  }
  return pending;
}

/**
 * Uses a module compiled by another thread of this process (posted to a worker): its compiled code,
 * and V8's optimised tiers of it, are shared rather than compiled again per worker.
 */
export function adoptSandboxModule(variant: ModuleVariant, entry: LoadedModule): void {
  if (!loaded.has(variant)) loaded.set(variant, entry);
}

export function sandboxModule(variant: ModuleVariant = 'metered'): WebAssembly.Module {
  return loadSandboxModule(variant).module;
}
