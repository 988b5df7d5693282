// The sandbox module is compiled once per process; every sandbox is a new instance of it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULE_FILES, type ModuleVariant } from './abi.js';

const WASM_DIR = new URL('../../wasm/', import.meta.url);
const compiled = new Map<ModuleVariant, WebAssembly.Module>();

export function sandboxModulePath(variant: ModuleVariant = 'metered'): string {
  return fileURLToPath(new URL(MODULE_FILES[variant], WASM_DIR));
}

export function sandboxModule(variant: ModuleVariant = 'metered'): WebAssembly.Module {
  let module = compiled.get(variant);
  if (!module) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(sandboxModulePath(variant));
    } catch (e) {
      throw new Error(`pyfence: ${sandboxModulePath(variant)} is missing; run \`npm run build\` (${(e as Error).message})`);
    }
    module = new WebAssembly.Module(new Uint8Array(bytes));
    compiled.set(variant, module);
  }
  return module;
}
