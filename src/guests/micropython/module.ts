// The sandbox module is compiled once per process; every sandbox is a new instance of it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../../core/lazy-builtins.js';
import { MODULE_FILES, MODULE_TABLE_SECTION, type ModuleVariant } from '../../engine/abi.js';
import { readAsCompiled, takeEarlyCompile } from './early-compile.js';

const WASM_DIR = new URL('../../../wasm/', import.meta.url);

export interface ModuleTableEntry {
  name: string;
  keyAddress: number;
  key: number;
}

export interface LoadedModule {
  module: WebAssembly.Module;
  /** The builtin-module table the build found in this module (its MODULE_TABLE_SECTION). */
  moduleTable: readonly ModuleTableEntry[];
  /**
   * sha256 of the module's bytes, what a snapshot is tied to: hashed when a snapshot first needs it
   * (moduleSha256), as loading node:crypto cost every start ~7 ms. Until then `bytes` keeps what
   * was compiled, so the hash is of that and not of whatever the file holds by then; or, for the
   * command line's early compile, `identity` stands for them: the file is read again and must still
   * have it (early-compile.ts).
   */
  sha256: string | null;
  bytes: Uint8Array | null;
  identity?: string | null;
}

/** What wasm/manifest.json says of a variant (build/build.ts); a module itself carries what the engine uses. */
export interface BuildReport {
  sha256: string;
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

/** The module with what its build section says; a module built without one is refused. */
export function describedModule(module: WebAssembly.Module, bytes: Uint8Array | null, what: string, identity: string | null = null): LoadedModule {
  const [section] = WebAssembly.Module.customSections(module, MODULE_TABLE_SECTION);
  if (!section) throw new Error(`pyfence: ${what} has no ${MODULE_TABLE_SECTION} section: it is not a pyfence build of this version; run \`npm run build\``);
  const { moduleTable } = JSON.parse(new TextDecoder().decode(section)) as { moduleTable: ModuleTableEntry[] };
  return { module, moduleTable, sha256: null, bytes, identity };
}

export function loadSandboxModule(variant: ModuleVariant = 'metered'): LoadedModule {
  let entry = loaded.get(variant);
  if (!entry) {
    const bytes = new Uint8Array(readModule(variant));
    entry = describedModule(new WebAssembly.Module(bytes), bytes, MODULE_FILES[variant]);
    loaded.set(variant, entry);
  }
  return entry;
}

/** The loaded module's sha256 (hashed on first use). */
export function moduleSha256(variant: ModuleVariant = 'metered'): string {
  const entry = loadSandboxModule(variant);
  if (entry.sha256 === null) {
    const bytes = entry.bytes ?? readAsCompiled(sandboxModulePath(variant), entry.identity!);
    entry.sha256 = sha256Hex(bytes);
    entry.bytes = null;
    entry.identity = null;
  }
  return entry.sha256;
}

/** The loaded module as another thread adopts it (adoptSandboxModule): hashed, without its bytes. */
export function sharedSandboxModule(variant: ModuleVariant): LoadedModule {
  const sha256 = moduleSha256(variant);
  return { ...loadSandboxModule(variant), sha256, bytes: null };
}

const compiling = new Map<ModuleVariant, Promise<LoadedModule>>();

/**
 * The same, compiled by V8's background threads (WebAssembly.compile) while this thread goes on:
 * the command line starts it before it loads its own code (early-compile.ts), and a sandbox awaits
 * it rather than compile on the thread its host runs on.
 */
export function compileSandboxModule(variant: ModuleVariant = 'metered'): Promise<LoadedModule> {
  const done = loaded.get(variant);
  if (done) return Promise.resolve(done);
  let pending = compiling.get(variant);
  if (!pending) {
    const early = takeEarlyCompile(sandboxModulePath(variant)); // the command line's, started first
    pending = (async () => {
      const bytes = early ? early.bytes : new Uint8Array(readModule(variant));
      const module = await (early?.module ?? WebAssembly.compile(bytes!));
      // A synchronous load meanwhile (a Pool made in the same tick) compiled it first: use that one.
      const entry = loaded.get(variant) ?? describedModule(module, bytes, MODULE_FILES[variant], early?.identity ?? null);
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
