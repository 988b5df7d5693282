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

export function loadSandboxModule(variant: ModuleVariant = 'metered'): LoadedModule {
  let entry = loaded.get(variant);
  if (!entry) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(sandboxModulePath(variant));
    } catch (e) {
      throw new Error(`pyfence: ${sandboxModulePath(variant)} is missing; run \`npm run build\` (${(e as Error).message})`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const report = JSON.parse(readFileSync(new URL('manifest.json', WASM_DIR), 'utf8')).variants?.[variant] as BuildReport | undefined;
    if (report?.sha256 !== sha256) throw new Error(`pyfence: wasm/manifest.json does not describe ${MODULE_FILES[variant]}; run \`npm run build\``);
    entry = { module: new WebAssembly.Module(new Uint8Array(bytes)), sha256, report };
    loaded.set(variant, entry);
  }
  return entry;
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
